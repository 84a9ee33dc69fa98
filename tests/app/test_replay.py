"""Replaying the bus archive changes nothing: every consumer is idempotent."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.app.conftest import BUS, FileManager, Stack


def _archive(stack: Stack) -> str:
    bus_arn = stack.events.describe_event_bus(Name=BUS)["Arn"]
    answer = stack.events.create_archive(
        ArchiveName="everything",
        EventSourceArn=bus_arn,
        EventPattern=json.dumps({"source": ["filemanager"]}),
    )
    return str(answer["ArchiveArn"])


def _replay(stack: Stack, archive_arn: str) -> None:
    now = datetime.now(UTC)
    stack.events.start_replay(
        ReplayName="again",
        EventSourceArn=archive_arn,
        EventStartTime=now - timedelta(hours=1),
        EventEndTime=now + timedelta(minutes=1),
        Destination={"Arn": stack.events.describe_event_bus(Name=BUS)["Arn"]},
    )


def test_a_replayed_window_leaves_files_and_feed_as_they_were(
    files: FileManager, stack: Stack
) -> None:
    archive_arn = _archive(stack)
    kept = files.add("kept.txt")
    gone = files.add("gone.txt")
    assert files.delete(gone).status_code == 202
    files.run_delete_consumer()
    files.run_change_feed()
    feed_before = files.get("/changes").json_body["changes"]
    listing_before = files.get("/files").json_body
    items_before = sorted(map(str, stack.table_items()))

    _replay(stack, archive_arn)
    replayed_commands = stack.receive(stack.commands, expected=1)
    files.client.lambda_.invoke("on_delete_file", files.sqs_event(replayed_commands))
    replayed_changes = files.run_change_feed()

    assert len(replayed_commands) == 1
    assert len(replayed_changes) == 3  # created twice, deleted once (v2 each)
    assert files.get("/changes").json_body["changes"] == feed_before
    assert files.get("/files").json_body == listing_before
    assert sorted(map(str, stack.table_items())) == items_before
    assert [i["file_id"] for i in listing_before["items"]] == [kept]
