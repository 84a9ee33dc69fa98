"""Which AWS clients a process builds and which calls it makes, from botocore.

`install()` wraps botocore's `Session.create_client`, so every client built
afterwards, by any session (chalicelib keeps one of its own), is noted and
gets three event hooks: `provide-client-params` keeps the caller's own
arguments (to replay them later), `before-call` counts a real API call
(presigning emits no `before-call`, so it is rightly not counted), and
`after-call` keeps what a Query read.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.session

_PARAMS = "bench_params"
_INDEX = "bench_call_index"


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    params: dict[str, Any]
    answer: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        return self.operation


@dataclass
class Recorder:
    clients_built: list[str] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    recording: bool = False
    _original: Any = None

    def install(self) -> Recorder:
        original = botocore.session.Session.create_client
        recorder = self

        def create_client(session: Any, service_name: str, *a: Any, **kw: Any) -> Any:
            client = original(session, service_name, *a, **kw)
            recorder.clients_built.append(service_name)
            recorder._hook(client)
            return client

        self._original = original
        setattr(botocore.session.Session, "create_client", create_client)  # noqa: B010
        return self

    def uninstall(self) -> None:
        original, self._original = self._original, None
        if original is not None:
            setattr(botocore.session.Session, "create_client", original)  # noqa: B010

    @contextlib.contextmanager
    def capture(self) -> Iterator[list[Call]]:
        """The calls made inside the block (the list fills as they happen)."""
        captured: list[Call] = []
        self.calls, self.recording = captured, True
        try:
            yield captured
        finally:
            self.recording = False

    def _hook(self, client: Any) -> None:
        events = client.meta.events
        events.register("provide-client-params", self._on_params)
        events.register("before-call", self._on_call)
        events.register("after-call", self._on_answer)

    def _on_params(
        self, params: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        if self.recording:
            context[_PARAMS] = copy.deepcopy(params)

    def _on_call(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        if not self.recording:
            return
        context[_INDEX] = len(self.calls)
        service = model.service_model.service_name
        self.calls.append(Call(service, model.name, context.pop(_PARAMS, {})))

    def _on_answer(
        self, parsed: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        index = context.pop(_INDEX, None)
        if not self.recording or index is None or index >= len(self.calls):
            return
        kept = ("Count", "ScannedCount", "ConsumedCapacity", "LastEvaluatedKey")
        self.calls[index].answer.update({k: parsed[k] for k in kept if k in parsed})
