"""Listing cost: how many index items one page of `GET /files` reads.

A user's files are seeded straight into DynamoDB in the layout the index
adapter writes (its own `_record_values` and key helpers, checked against a
file the app itself stored), with one hidden PENDING file per ten listed
ones and a hundred folders. Then pages of `GET /files` are read through the
app and each Query's `ScannedCount` (the items DynamoDB read and bills for)
is recorded. A page must read at most one item more than its limit.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from moto import mock_aws

from bench import report
from bench.aws import Resources, batch_write, provision
from bench.context import Context
from bench.harness import InProcess, new_user
from bench.recorder import Recorder
from bench.report import Row
from bench.stage import environment, stage_env
from chalicelib import bootstrap
from chalicelib.adapters import dynamodb_index as layout
from chalicelib.domain import FileRecord, FileStatus
from chalicelib.names import ancestor_folders, parent_folder

FOLDERS = 100
HIDDEN_EVERY = 10
CHUNK = 1_000
SEEDED_AT = datetime(2026, 1, 1, tzinfo=UTC)
_serializer, _deserializer = TypeSerializer(), TypeDeserializer()


def plan(ctx: Context) -> list[str]:
    ids = ["list layout"]
    for size in (ctx.sizes.list_small, ctx.sizes.list_large):
        ids += [f"list {size:,} seed", f"list {size:,} limit=100"]
        ids.append(f"list {size:,} limit=1000")
    return ids


def run(ctx: Context) -> list[Row]:
    recorder = Recorder().install()
    env = stage_env(ctx.jwks_url, None)
    try:
        with environment(env), mock_aws():
            bootstrap.reset()
            app = InProcess(ctx.module, ctx.identity, provision(env, ctx.handlers.sqs))
            rows = [layout_row(app)]
            for size, budget in (
                (ctx.sizes.list_small, None),
                (ctx.sizes.list_large, ctx.sizes.list_seed_budget_s),
            ):
                rows += measure_size(app, recorder, size, budget)
    finally:
        recorder.uninstall()
        bootstrap.reset()
    return rows


# --- seeding -------------------------------------------------------------------


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def file_name(index: int, kind: str = "file") -> str:
    return f"d{index % FOLDERS:03d}/{kind}-{index:06d}.txt"


def record(owner: str, index: int, status: FileStatus, name: str) -> FileRecord:
    return FileRecord(
        owner=owner,
        file_id=uuid.UUID(
            int=index + (0 if status is FileStatus.AVAILABLE else 1 << 64)
        ).hex,
        name=name,
        size=16,
        content_type="text/plain",
        status=status,
        created_at=SEEDED_AT,
        sequence=1 if status is FileStatus.AVAILABLE else 0,
        uploaded_at=SEEDED_AT if status is FileStatus.AVAILABLE else None,
        etag="0" * 32 if status is FileStatus.AVAILABLE else None,
    )


def record_items(file: FileRecord) -> list[dict[str, Any]]:
    """The file's record and its name claim, as the adapter writes them."""
    claim = {
        "pk": layout._user_pk(file.owner),
        "sk": layout._name_sk(file.name),
        "file_id": file.file_id,
        "name": file.name,
    }
    return [to_item(layout._record_values(file)), to_item(claim)]


def folder_item(owner: str, folder: str, files: int) -> dict[str, Any]:
    return to_item(
        {
            "pk": layout._user_pk(owner),
            "sk": layout._folder_sk(folder),
            "file_count": files,
            "name": folder,
            "folder_pk": layout._folder_pk(owner, parent_folder(folder)),
            "folder_sk": folder,
        }
    )


def seeded_files(owner: str, start: int, stop: int) -> Iterator[FileRecord]:
    for index in range(start, stop):
        yield record(owner, index, FileStatus.AVAILABLE, file_name(index))
        if index % HIDDEN_EVERY == 0:
            yield record(owner, index, FileStatus.PENDING, file_name(index, "pending"))


@dataclass(frozen=True)
class Seeded:
    owner: str
    files: int
    items: int
    seconds: float


def seed(resources: Resources, target: int, budget_s: float | None) -> Seeded:
    """Write up to `target` listed files, stopping early past the budget."""
    owner, started, written, items = new_user(), time.monotonic(), 0, 0
    folders: Counter[str] = Counter()
    while written < target:
        if budget_s is not None and time.monotonic() - started > budget_s:
            break
        stop = min(target, written + CHUNK)
        chunk = [
            item for f in seeded_files(owner, written, stop) for item in record_items(f)
        ]
        batch_write(resources, [{"PutRequest": {"Item": item}} for item in chunk])
        for index in range(written, stop):
            folders.update(ancestor_folders(file_name(index)))
        written, items = stop, items + len(chunk)
    entries = [folder_item(owner, name, n) for name, n in folders.items()]
    batch_write(resources, [{"PutRequest": {"Item": item}} for item in entries])
    return Seeded(owner, written, items + len(entries), time.monotonic() - started)


def layout_row(app: InProcess) -> Row:
    """Seeded items equal, field for field, what the app stores for a file."""
    owner = new_user()
    app.available_file(owner, "d000/layout-check.txt")
    stored = [
        item
        for item in app.resources.client("dynamodb").scan(
            TableName=app.resources.table
        )["Items"]
        if item["pk"]["S"] == layout._user_pk(owner)
    ]
    kept = next(i for i in stored if i["sk"]["S"].startswith("FILE#"))
    values = {k: _deserializer.deserialize(v) for k, v in kept.items()}
    file = layout._record_of(values)
    ours = [*record_items(file), folder_item(owner, "d000/", 1)]
    same = sorted(map(repr, ours)) == sorted(map(repr, stored))
    return Row(
        "list layout",
        "same" if same else "differs",
        "-",
        target="same",
        verdict=report.OK if same else report.MISS,
        notes="the seeder's items for a file vs the items the app stored for it "
        f"({len(stored)} items: record, name claim, folder entry)",
    )


# --- reading pages -------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    label: str
    limit: int
    queries: int
    read: int
    returned: int


PAGE_QUERIES: tuple[tuple[str, dict[str, str]], ...] = (
    ("first", {"limit": "100"}),
    ("root folders", {"delimiter": "/", "limit": "100"}),
    ("one folder", {"prefix": "d007/", "delimiter": "/", "limit": "100"}),
    ("limit 1000", {"limit": "1000"}),
)


def read_page(
    app: InProcess, recorder: Recorder, owner: str, label: str, query: dict[str, str]
) -> tuple[Page, str | None]:
    with recorder.capture() as calls:
        answer = app.request("GET", "/files", owner, query=query)
    if answer.status != 200:
        raise RuntimeError(
            f"GET /files?{query} answered {answer.status}: {answer.body}"
        )
    queries = [c for c in calls if c.operation == "Query"]
    page = Page(
        label,
        int(query["limit"]),
        len(queries),
        sum(int(c.answer.get("ScannedCount", 0)) for c in queries),
        len(answer.body["items"]) + len(answer.body["folders"]),
    )
    return page, answer.body.get("next_cursor")


def read_pages(app: InProcess, recorder: Recorder, owner: str) -> list[Page]:
    pages = []
    for label, query in PAGE_QUERIES:
        page, cursor = read_page(app, recorder, owner, label, query)
        pages.append(page)
        if label == "first" and cursor:
            # The next page, from the cursor the first one gave.
            following = {**query, "cursor": cursor}
            pages.append(read_page(app, recorder, owner, "second", following)[0])
    return pages


def measure_size(
    app: InProcess, recorder: Recorder, size: int, budget: float | None
) -> list[Row]:
    seeded = seed(app.resources, size, budget)
    pages = read_pages(app, recorder, seeded.owner)
    label = f"{size:,}"
    return [seed_row(label, size, seeded), *page_rows(label, pages)]


def seed_row(label: str, size: int, seeded: Seeded) -> Row:
    short = seeded.files < size
    notes = (
        f"{seeded.files:,} listed files ({seeded.items:,} items with hidden PENDING "
        f"files, name claims and {FOLDERS} folders) batch-written in "
        f"{seeded.seconds:.0f} s ({seeded.items / seeded.seconds:,.0f} items/s on moto)"
    )
    if short:
        notes += f"; stopped short of {size:,}: moto is too slow for the time budget"
    return Row(
        f"list {label} seed",
        f"{seeded.files:,} files",
        f"{size:,} wanted",
        target=f"{size:,}",
        verdict=report.MISS if short else report.INFO,
        notes=notes,
    )


def page_rows(label: str, pages: list[Page]) -> list[Row]:
    rows = []
    for limit in sorted({p.limit for p in pages}):
        chosen = [p for p in pages if p.limit == limit]
        worst = max(p.read for p in chosen)
        most_queries = max(p.queries for p in chosen)
        detail = ", ".join(
            f"{p.label} {p.read} read/{p.returned} listed" for p in chosen
        )
        ok = worst <= limit + 1 and most_queries == 1
        rows.append(
            Row(
                f"list {label} limit={limit}",
                f"{worst} read",
                f"{limit + 1} (limit+1)",
                report.times(report.ratio(worst, limit + 1)),
                f"<= {limit + 1}",
                report.OK if ok else report.MISS,
                f"most items one page read (ScannedCount), {most_queries} Query a "
                f"page at most: {detail}",
            )
        )
    return rows
