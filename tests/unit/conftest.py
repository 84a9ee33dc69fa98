"""The services, wired to the in-memory fakes."""

from __future__ import annotations

import pytest

from chalicelib.cursors import CursorCodec
from chalicelib.deletes import DeleteProcessor
from chalicelib.domain import Quota
from chalicelib.files import FileService
from chalicelib.uploads import UploadProcessor
from tests.fakes import (
    FixedClock,
    InMemoryFileIndex,
    InMemoryObjectStore,
    RecordingAcknowledger,
    RecordingPublisher,
)

PRESIGN_TTL = 900
# Small enough for a test to reach with a few files.
QUOTA = Quota(max_files=5, max_bytes=1000)


@pytest.fixture
def file_service(
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
    cursors: CursorCodec,
    clock: FixedClock,
) -> FileService:
    return FileService(
        index=index,
        store=store,
        bus=bus,
        cursors=cursors,
        presign_ttl_seconds=PRESIGN_TTL,
        quota=QUOTA,
        clock=clock,
    )


@pytest.fixture
def upload_processor(
    index: InMemoryFileIndex, store: InMemoryObjectStore, bus: RecordingPublisher
) -> UploadProcessor:
    return UploadProcessor(index=index, store=store, bus=bus)


@pytest.fixture
def delete_processor(
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
    acknowledger: RecordingAcknowledger,
) -> DeleteProcessor:
    return DeleteProcessor(index=index, store=store, bus=bus, acknowledger=acknowledger)
