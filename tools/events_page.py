"""Write docs/events.md, the page about every command and event, from the models.

python tools/events_page.py          # rewrite docs/events.md
python tools/events_page.py --check  # exit 1 if the page is stale

Everything on the page comes from chalicelib/messages.py: the catalogue and
each version's DESCRIPTION, PRODUCERS, PUBLISHED_VERSIONS, SUBSCRIPTIONS and
their EventBridge patterns, the fields of each version's schema, and an
example of each message, made by `messages_about` from a sample file with
fixed ids and times so the page only changes when the models do.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.domain import FileRecord, FileStatus  # noqa: E402
from chalicelib.messages import (  # noqa: E402
    CATALOGUE,
    PRODUCERS,
    PUBLISHED_VERSIONS,
    SOURCE,
    SUBSCRIPTIONS,
    Message,
    Metadata,
    messages_about,
)
from tools.event_schemas import file_name, schema_of  # noqa: E402
from tools.schema_compat import breaking_changes  # noqa: E402

PAGE_PATH = ROOT / "docs" / "events.md"
REFRESH = "python tools/events_page.py (or make contracts)"

# What a field means, for fields whose model gives no description. A new
# field needs a `description=` on the model or a line here.
FIELD_NOTES = {
    "event_id": "Our id for the message, the same whenever it is sent again.",
    "type": "The message's type; EventBridge's `detail-type` says the same.",
    "version": "The version of the type, which fixes the shape of `data`.",
    "time": "When the message was made, in UTC.",
    "source": "Who put it on the bus; EventBridge's `source` says the same.",
    "trace_id": "The trace the work belongs to: the API request's "
    "`X-Trace-Id`, or one made for the S3 event.",
    "file_id": "The file's id (32 lowercase hex digits).",
    "sequence": "The file's own order of changes.",
    "owner": "The owner's Cognito `sub`.",
    "name": "The user's name for the file; folders are separated by `/`.",
    "size": "Exact size in bytes.",
    "content_type": "The media type declared at create, which the upload matched.",
    "etag": "S3's ETag of the object.",
    "uploaded_at": "When S3 stored the object.",
    "sha256": "The SHA-256 of the bytes, when known.",
    "sha256_verified": "Whether S3 computed `sha256` itself.",
    "file": "The file, described the same way in every version-2 event.",
    "deleted_at": "When the delete consumer removed the object.",
    "reason": "Why the upload was refused, in words.",
    "rejected_at": "When the upload was rejected.",
    "previous_name": "The name the file had before this change.",
    "renamed_at": "When the API renamed the file.",
    "trashed_at": "When the file went to the trash.",
    "restored_at": "When the file came back from the trash.",
}

# The sample file every example is about, and when each step happened.
SAMPLE_OWNER = "a1a1a1a1-0000-4000-8000-00000000000a"
SAMPLE_FILE_ID = "9f2c4e6a8b0d4f1e3a5c7e9b1d3f5a7c"
REJECTED_FILE_ID = "3d5f7a9c1e2b4d6f8a0c2e4b6d8f0a1c"
SAMPLE_CONTENT = b"Quarterly report\n"
UPLOAD_TRACE = "5e0f3a1c9b7d4e2f8a6c0b1d3e5f7a9c"
DELETE_TRACE = "client-trace-42"
RENAME_TRACE = "client-trace-17"


def _at(minute: int, second: int) -> datetime:
    return datetime(2026, 3, 14, 9, minute, second, tzinfo=UTC)


def sample_messages() -> dict[tuple[str, int], Message]:
    """One example of every catalogue entry, about one file's life."""
    pending = FileRecord(
        owner=SAMPLE_OWNER,
        file_id=SAMPLE_FILE_ID,
        name="docs/2026/report.txt",
        size=len(SAMPLE_CONTENT),
        content_type="text/plain",
        status=FileStatus.PENDING,
        created_at=_at(20, 0),
        sha256=hashlib.sha256(SAMPLE_CONTENT).hexdigest(),
    )
    available = pending.evolve(
        status=FileStatus.AVAILABLE,
        etag="0c5b2a3f8e9d1c4b7a6f5e4d3c2b1a09",
        uploaded_at=_at(21, 30),
        sha256_verified=True,
    )
    renamed = available.evolve(name="docs/2026/report-final.txt")
    trashed = available.evolve(status=FileStatus.TRASHED, status_since=_at(31, 0))
    restored = trashed.evolve(
        status=FileStatus.AVAILABLE, name="docs/2026/report (1).txt"
    )
    deleting = available.evolve(status=FileStatus.DELETING)
    rejected = replace(pending, file_id=REJECTED_FILE_ID, name="docs/2026/big.txt")
    rejected = rejected.evolve(
        status=FileStatus.REJECTED,
        rejected_reason=f"size is 50 bytes; {len(SAMPLE_CONTENT)} were declared",
    )
    # (record, trace id, sequence, time) of each message of the story.
    story: dict[str, tuple[FileRecord, str, int, datetime]] = {
        "FileCreated": (available, UPLOAD_TRACE, available.sequence, _at(21, 31)),
        "DeleteFile": (deleting, DELETE_TRACE, deleting.sequence, _at(40, 2)),
        "FileDeleted": (deleting, DELETE_TRACE, deleting.sequence + 1, _at(40, 3)),
        "FileRejected": (rejected, UPLOAD_TRACE, rejected.sequence, _at(21, 31)),
        "FileRenamed": (renamed, RENAME_TRACE, renamed.sequence, _at(30, 5)),
        "FileTrashed": (trashed, RENAME_TRACE, trashed.sequence, _at(31, 0)),
        "FileRestored": (restored, RENAME_TRACE, restored.sequence, _at(35, 9)),
    }
    # The record as the change found it, for messages that tell what it undid.
    befores = {"FileRenamed": available, "FileRestored": trashed}
    samples: dict[tuple[str, int], Message] = {}
    for type_name, (record, trace_id, sequence, at) in story.items():
        before = befores.get(type_name)
        for message in messages_about(
            type_name, record, trace_id, sequence, at, before
        ):
            samples[(type_name, message.metadata.version)] = message
    for key, model in CATALOGUE.items():
        if key not in samples:  # a version no longer published
            record, trace_id, sequence, at = story[key[0]]
            before = befores.get(key[0])
            samples[key] = model.about(record, trace_id, sequence, at, before)
    return samples


# --- fields, from each version's schema --------------------------------------


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target = root["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _type_text(node: dict[str, Any], root: dict[str, Any]) -> str:
    node = _resolve(node, root)
    if "anyOf" in node:
        return " or ".join(_type_text(branch, root) for branch in node["anyOf"])
    text = str(node.get("type", "any"))
    if "format" in node:
        text += f" ({node['format']})"
    if "minimum" in node:
        text += f", ≥ {node['minimum']}"
    if "enum" in node:
        text += ": one of " + ", ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        text += f": `{node['const']}`"
    return text


def _object_of(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any] | None:
    node = _resolve(node, root)
    for branch in node.get("anyOf", [node]):
        branch = _resolve(branch, root)
        if branch.get("type") == "object" and "properties" in branch:
            return branch
    return None


def _note(name: str, node: dict[str, Any], root: dict[str, Any]) -> str:
    description = (
        node.get("description")
        or FIELD_NOTES.get(name)
        or _resolve(node, root).get("description")
    )
    if not description:
        raise KeyError(
            f"field {name!r} has no description: give it one in its model "
            "(Field(description=...)) or a line in FIELD_NOTES"
        )
    return " ".join(str(description).split())


def field_rows(
    schema: dict[str, Any], root: dict[str, Any], prefix: str = ""
) -> Iterator[str]:
    """One table row per field of `schema`, nested objects flattened."""
    required = set(schema.get("required", ()))
    for name, node in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        if name in required:
            needed = "yes"
        elif "default" in node:
            needed = f"no, `{json.dumps(node['default'])}`"
        else:
            needed = "no"
        yield (
            f"| `{path}` | {_type_text(node, root)} | {needed} "
            f"| {_note(name, node, root)} |"
        )
        nested = _object_of(node, root)
        if nested is not None:
            yield from field_rows(nested, root, prefix=f"{path}.")


FIELD_TABLE = ["| Field | Type | Required | Meaning |", "|---|---|---|---|"]


# --- the page ---------------------------------------------------------------


def _code_path(change: str) -> str:
    path, _, what = change.partition(": ")
    return f"`{path}`: {what}"


def _json_block(value: Any) -> list[str]:
    return ["```json", json.dumps(value, indent=2, ensure_ascii=False), "```"]


def _readers(type_name: str, version: int) -> list[str]:
    return [
        f"`{name}`"
        for name, subscription in SUBSCRIPTIONS.items()
        if (type_name, version) in {(m.TYPE, m.VERSION) for m in subscription.reads}
    ]


def _types() -> list[str]:
    return sorted({type_name for type_name, _ in CATALOGUE})


def _overview() -> list[str]:
    lines = [
        "## At a glance",
        "",
        "| Message | Kind | Versions published | Produced by | Read by |",
        "|---|---|---|---|---|",
    ]
    for type_name in _types():
        versions = sorted(v for t, v in CATALOGUE if t == type_name)
        readers = [
            f"{reader} (v{v})" for v in versions for reader in _readers(type_name, v)
        ]
        published = ", ".join(str(v) for v in PUBLISHED_VERSIONS.get(type_name, ()))
        lines.append(
            f"| [{type_name}](#{type_name.lower()}) "
            f"| {CATALOGUE[(type_name, versions[0])].KIND} "
            f"| {published or 'none'} | {PRODUCERS[type_name]} "
            f"| {', '.join(readers) or 'no rule in this app'} |"
        )
    return [*lines, ""]


def _envelope() -> list[str]:
    schema = Metadata.model_json_schema(mode="serialization")
    return [
        "## The envelope",
        "",
        "Every message is one JSON object with two parts: `metadata` says what "
        "the message is, where it comes from and which trace it belongs to; "
        "`data` is the request or the fact itself, and its shape is what a "
        "version fixes. The producers put each message on the custom bus with "
        f"`source` `{SOURCE}` and the message's type as `detail-type`, so a "
        "consumer's queue receives EventBridge's own envelope with our message "
        "as its `detail`. EventBridge gives the event an `id` of its own, and a "
        "new one when a rule forwards or an archive replays it; ours is "
        "`metadata.event_id`, and it is what consumers deduplicate on.",
        "",
        *FIELD_TABLE,
        *field_rows(schema, schema, prefix="metadata."),
        "",
        "The event id is derived from the type, the version, the file and its "
        "sequence, so the same change gets the same id however often it is "
        "sent (after a retry, or from the outbox), and each version of one "
        "change has an id of its own. The sequence is assigned in the same "
        "conditional write that changes the file's record, so a consumer can "
        "put one file's messages in order whatever order its queue delivers "
        "them in.",
        "",
    ]


def _versions_rule() -> list[str]:
    return [
        "## Versions",
        "",
        "A change that removes or renames a field, changes a type, makes a "
        "field nullable or not, adds a required field, or changes the values "
        "an enum or a constant allows breaks some reader, so it is a new "
        "version, never an edit of a published one. A new optional field is "
        "not: consumers ignore fields they do not know, and default the ones "
        "an older message leaves out. The producers publish every version in "
        "`PUBLISHED_VERSIONS`, each as its own event; each consumer's rules "
        "match the one version of each type it reads, on "
        "`detail.metadata.version`.",
        "",
        "`docs/events/schemas/` holds the JSON Schema of every version as its "
        "producer writes it. The contract tests fail when a model breaks the "
        "schema committed for its version (the rule above, in "
        "`tools/schema_compat.py`), when a committed version leaves the "
        "catalogue, or when a schema or this page is out of date. "
        "`make contracts` rewrites both; it refuses to write a breaking "
        "change over a committed schema.",
        "",
        "To retire a version: move its consumers to the newer one, take it "
        "out of `PUBLISHED_VERSIONS` once no rule reads it, and delete its "
        "model and its schema file only once no record's outbox, queue, "
        "dead-letter queue or archive still holds it: the outbox is read back "
        "by type and version, and a version missing from the catalogue "
        "cannot be.",
        "",
    ]


def _consumers() -> list[str]:
    lines = ["## Consumers", ""]
    for name, subscription in SUBSCRIPTIONS.items():
        reads = ", ".join(f"{m.TYPE} v{m.VERSION}" for m in subscription.reads)
        lines += [
            f"### `{name}`",
            "",
            subscription.description,
            "",
            f"Reads {reads}. Its queue is fed by one rule on the custom bus per "
            "version it reads:",
            "",
        ]
        for version, pattern in subscription.event_patterns().items():
            lines += [f"Version {version}:", "", *_json_block(pattern), ""]
    return lines


def _version_section(type_name: str, version: int, sample: Message) -> list[str]:
    model = CATALOGUE[(type_name, version)]
    schema = schema_of(model)
    published = version in PUBLISHED_VERSIONS.get(type_name, ())
    readers = _readers(type_name, version)
    lines = [
        f"### {type_name} version {version}",
        "",
        model.DESCRIPTION,
        "",
        f"- Published: {'yes' if published else 'no longer'}.",
        f"- Read by: {', '.join(readers) or 'no rule in this app'}.",
        f"- Schema: [`{file_name(type_name, version)}`]"
        f"(events/schemas/{file_name(type_name, version)}).",
    ]
    previous = CATALOGUE.get((type_name, version - 1))
    if previous is not None:
        changes = breaking_changes(schema_of(previous), schema)
        lines += [
            f"- Why a version {version}: for a reader of version {version - 1}, "
            f"it changes {len(changes)} thing{'s' if len(changes) != 1 else ''}:",
            "",
            *(f"  - {_code_path(change)}" for change in changes),
        ]
    data = _resolve(schema["properties"]["data"], schema)
    lines += [
        "",
        *FIELD_TABLE,
        *field_rows(data, schema, prefix="data."),
        "",
        "Example:",
        "",
        *_json_block(sample.model_dump(mode="json")),
        "",
    ]
    return lines


def _messages() -> list[str]:
    samples = sample_messages()
    lines: list[str] = []
    for type_name in _types():
        versions = sorted(v for t, v in CATALOGUE if t == type_name)
        kind = CATALOGUE[(type_name, versions[0])].KIND
        lines += [
            f"## {type_name}",
            "",
            f"{'An' if kind == 'event' else 'A'} {kind}, produced by "
            f"{PRODUCERS[type_name]}.",
            "",
        ]
        for version in versions:
            lines += _version_section(type_name, version, samples[(type_name, version)])
    return lines


def render() -> str:
    lines = [
        "# Commands and events",
        "",
        "<!-- Written by tools/events_page.py from chalicelib/messages.py; "
        "do not edit by hand: run `make contracts`. -->",
        "",
        "The file manager's parts talk through its custom EventBridge bus: the "
        "API asks for work with a command, and the handlers announce what "
        "happened with events. This page lists every message in every "
        "version, who publishes it, who reads which version, the rule that "
        "routes it, and an example. The examples follow one file, "
        f"`{SAMPLE_FILE_ID}`, from upload to delete, and one upload that was "
        f"refused, `{REJECTED_FILE_ID}`.",
        "",
        *_overview(),
        *_envelope(),
        *_versions_rule(),
        *_consumers(),
        *_messages(),
    ]
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    page = render()
    if args.check:
        current = PAGE_PATH.read_text(encoding="utf-8") if PAGE_PATH.exists() else ""
        if current != page:
            print(f"{PAGE_PATH.relative_to(ROOT)} is stale: run {REFRESH}")
            return 1
        return 0
    PAGE_PATH.write_text(page, encoding="utf-8")
    print(f"wrote {PAGE_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
