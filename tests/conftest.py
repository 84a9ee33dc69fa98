"""Fixtures every tier may use: the in-memory fakes and a fixed clock.

Nothing here touches the environment or the network; the adapter and app
tiers add their own AWS fixtures in their folders.
"""

from __future__ import annotations

import pytest

from chalicelib.cursors import CursorCodec
from tests.fakes import (
    FixedClock,
    InMemoryFileIndex,
    InMemoryObjectStore,
    Journal,
    RecordingAcknowledger,
    RecordingPublisher,
)

CURSOR_SECRET = b"cursor-secret-for-tests"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
def index(journal: Journal) -> InMemoryFileIndex:
    return InMemoryFileIndex(journal=journal)


@pytest.fixture
def store(journal: Journal) -> InMemoryObjectStore:
    return InMemoryObjectStore(journal=journal)


@pytest.fixture
def bus(journal: Journal) -> RecordingPublisher:
    return RecordingPublisher(journal=journal)


@pytest.fixture
def acknowledger() -> RecordingAcknowledger:
    return RecordingAcknowledger()


@pytest.fixture
def cursors() -> CursorCodec:
    return CursorCodec(CURSOR_SECRET)
