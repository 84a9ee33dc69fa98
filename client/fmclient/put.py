"""`fm put`: which local files go where, and uploading them a few at a time.

Each file is hashed first, so the API always knows its SHA-256 (S3 then
refuses bytes that differ, where it checks). Each create carries an
Idempotency-Key of its own, so a retried create never makes a second file.
"""

from __future__ import annotations

import os
import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from fmclient import transfer
from fmclient.api import Api, new_http_client
from fmclient.errors import ClientError
from fmclient.transfer import FormExpired, Meter


@dataclass(frozen=True)
class Planned:
    source: Path
    name: str
    size: int
    content_type: str


@dataclass
class Outcome:
    planned: Planned
    file_id: str | None = None
    sha256: str | None = None
    status: str = "PENDING"
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "source": str(self.planned.source),
            "name": self.planned.name,
            "size": self.planned.size,
            "file_id": self.file_id,
            "sha256": self.sha256,
            "status": self.status,
            "error": self.error,
        }


def folder_prefix(folder: str) -> str:
    """A remote folder as a name prefix: no leading slash, one trailing."""
    cleaned = unicodedata.normalize("NFC", folder).strip("/")
    return f"{cleaned}/" if cleaned else ""


def plan(
    sources: Sequence[Path], folder: str = "", name: str | None = None
) -> list[Planned]:
    """Remote names for local files; a folder brings its whole tree along."""
    prefix = folder_prefix(folder)
    if name is not None and (len(sources) != 1 or sources[0].is_dir()):
        raise ClientError("--name needs exactly one file")
    planned: list[Planned] = []
    for source in sources:
        if source.is_dir():
            planned += _plan_tree(source, prefix + source.resolve().name + "/")
        elif source.is_file():
            remote = name if name is not None else prefix + source.name
            planned.append(_planned(source, remote))
        else:
            raise ClientError(f"{source}: no such file or folder")
    if not planned:
        raise ClientError("nothing to upload: the folders are empty")
    return planned


def _plan_tree(root: Path, prefix: str) -> list[Planned]:
    found: list[Planned] = []
    for folder, subfolders, files in os.walk(root):
        subfolders.sort()
        relative = Path(folder).relative_to(root)
        for file_name in sorted(files):
            path = Path(folder) / file_name
            if not path.is_file():
                continue
            parts = [*relative.parts, file_name] if relative.parts else [file_name]
            found.append(_planned(path, prefix + "/".join(parts)))
    return found


def _planned(path: Path, name: str) -> Planned:
    return Planned(
        source=path,
        name=unicodedata.normalize("NFC", name),
        size=path.stat().st_size,
        content_type=transfer.guess_content_type(path),
    )


class Uploader:
    """Uploads planned files on a few threads, each with its own S3 client."""

    def __init__(self, api: Api, jobs: int, meter_for: Callable[[Planned], Meter]):
        self._api = api
        self._jobs = max(1, jobs)
        self._meter_for = meter_for
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        self._clients_lock = threading.Lock()

    def run(self, planned: Iterable[Planned]) -> list[Outcome]:
        try:
            with ThreadPoolExecutor(self._jobs, thread_name_prefix="fm-put") as pool:
                return list(pool.map(self._upload_one, planned))
        finally:
            for client in self._clients:
                client.close()

    def _s3(self) -> httpx.Client:
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = new_http_client()
            self._local.client = client
            with self._clients_lock:
                self._clients.append(client)
        return client

    def _upload_one(self, planned: Planned) -> Outcome:
        outcome = Outcome(planned)
        meter = self._meter_for(planned)
        try:
            outcome.sha256 = transfer.sha256_of(planned.source, meter)
            self._create_and_send(planned, outcome, meter)
        except ClientError as exc:
            outcome.status = "FAILED"
            outcome.error = str(exc)
        except httpx.TransportError as exc:
            outcome.status = "FAILED"
            outcome.error = f"connection failed: {exc}"
        finally:
            close = getattr(meter, "close", None)
            if close is not None:
                close()
        return outcome

    def _create_and_send(
        self, planned: Planned, outcome: Outcome, meter: Meter
    ) -> None:
        key = uuid.uuid4().hex
        for attempt in range(2):
            created = self._api.create_file(
                planned.name, planned.size, planned.content_type, outcome.sha256, key
            )
            outcome.file_id = created["file_id"]
            form = created.get("upload")
            if form is None:
                # An earlier try's upload already landed.
                return
            try:
                transfer.upload(
                    self._s3(), self._api.retry, form, planned.source, meter
                )
                return
            except FormExpired:
                # The same key brings the same file with a fresh form.
                if attempt == 1:
                    raise
