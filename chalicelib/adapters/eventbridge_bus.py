"""Our custom EventBridge bus: commands and events leave the service here."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import DependencyUnavailableError
from chalicelib.messages import SOURCE, Message

logger = logging.getLogger(__name__)

# PutEvents takes at most 10 entries a call.
_MAX_ENTRIES = 10


class EventBridgePublisher:
    def __init__(self, client_factory: Callable[[], Any], bus_name: str) -> None:
        self._client_factory = client_factory
        self._bus_name = bus_name

    def publish(self, messages: Sequence[Message]) -> None:
        for start in range(0, len(messages), _MAX_ENTRIES):
            self._put(messages[start : start + _MAX_ENTRIES])

    def _put(self, messages: Sequence[Message]) -> None:
        entries = [
            {
                "EventBusName": self._bus_name,
                "Source": SOURCE,
                "DetailType": m.metadata.type,
                "Detail": m.to_json(),
            }
            for m in messages
        ]
        try:
            answer = self._client_factory().put_events(Entries=entries)
        except (ClientError, BotoCoreError) as exc:
            raise DependencyUnavailableError(
                "the event bus refused the call; try again"
            ) from exc
        # PutEvents reports failures per entry and does not raise for them:
        # an unchecked answer loses messages without a trace.
        if answer.get("FailedEntryCount", 0):
            failures = [
                {
                    "event_id": m.metadata.event_id,
                    "type": m.metadata.type,
                    "error_code": entry.get("ErrorCode"),
                }
                for m, entry in zip(messages, answer["Entries"], strict=True)
                if entry.get("ErrorCode")
            ]
            logger.error("the event bus refused entries", extra={"failures": failures})
            raise DependencyUnavailableError(
                "the event bus did not accept the message; try again",
                details={"failures": failures},
            )
        for message in messages:
            logger.info(
                "published %s",
                message.metadata.type,
                extra={
                    "event_id": message.metadata.event_id,
                    "file_id": message.metadata.file_id,
                    "version": message.metadata.version,
                },
            )
