"""Failures injected into the app's own AWS clients, through botocore's hooks.

The adapters under test are the real ones: a fault sits between the adapter
and moto, so the adapter's own error handling meets exactly what AWS would
hand it. The kinds:

- `fail`: the call never reaches AWS and answers with an AWS error code
  (the modelled exception, such as `TransactionCanceledException` with its
  cancellation reasons, is raised by botocore itself, as for a real answer);
- `lose_answer`: the call goes through, then the caller times out waiting
  for its answer (the ambiguous failure: done, but not known to be done);
- `crash`: the Lambda running the call dies right before or after it (a
  timeout, an out-of-memory kill): nothing after it runs, not even the
  batch's own error handling;
- `interleave`: something else runs right at the call, which then goes on
  (how a test places another function's work inside this one's);
- `refuse_entries`: `PutEvents` accepts some entries and refuses others,
  with `FailedEntryCount` set, as EventBridge does without raising.

A fault hits the calls its `when` picks (by the call's parameters), `times`
times or until `clear()`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

Params = dict[str, Any]
_PARAMS = "fault_injector_params"


class LambdaDied(BaseException):
    """The function's process ended mid-invocation (timeout, memory, crash).

    A BaseException, so no `except Exception` of the code under test can
    catch it: like a real death, it ends the invocation where it stands.
    """


def _always(params: Params) -> bool:
    return True


@dataclass
class Fault:
    operation: str
    when: Callable[[Params], bool]
    times: int | None
    hits: int = 0

    def strikes(self, params: Params) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if not self.when(params):
            return False
        self.hits += 1
        return True


@dataclass
class _ErrorFault(Fault):
    code: str = "InternalError"
    status: int = 500
    extra: dict[str, Any] = field(default_factory=dict)

    def answer(self) -> tuple[AWSResponse, dict[str, Any]]:
        http = AWSResponse("https://fault.invalid/", self.status, {}, None)
        parsed = {
            "Error": {"Code": self.code, "Message": "injected by the test"},
            "ResponseMetadata": {"HTTPStatusCode": self.status},
            **self.extra,
        }
        return http, parsed


@dataclass
class _EntryRefusal(Fault):
    refuse: Callable[[dict[str, Any]], bool] = _always
    error_code: str = "InternalFailure"


class FaultInjector:
    """Faults for the clients `client_for(service)` returns (cached clients)."""

    def __init__(self, client_for: Callable[[str], Any]) -> None:
        self._client_for = client_for
        self._before: dict[tuple[str, str], list[Fault]] = {}
        self._after: dict[tuple[str, str], list[Fault]] = {}
        self._hooked: set[tuple[str, str]] = set()
        self._clean_events: Any = None

    # --- what a test asks for ----------------------------------------------

    def fail(
        self,
        service: str,
        operation: str,
        code: str = "InternalError",
        *,
        status: int = 500,
        times: int | None = 1,
        when: Callable[[Params], bool] = _always,
        **extra: Any,
    ) -> Fault:
        fault = _ErrorFault(operation, when, times, code=code, status=status)
        fault.extra = extra
        return self._add(self._before, service, fault)

    def throttle(
        self,
        service: str,
        operation: str,
        *,
        times: int | None = 1,
        when: Callable[[Params], bool] = _always,
    ) -> Fault:
        code = "ProvisionedThroughputExceededException"
        return self.fail(service, operation, code, status=400, times=times, when=when)

    def cancel_transaction(
        self,
        *reasons: str | None,
        times: int | None = 1,
        when: Callable[[Params], bool] = _always,
    ) -> Fault:
        """`TransactWriteItems` cancelled, item by item for these reasons.

        With one reason, every item of the call gets it; otherwise the call's
        items get them in order (None: that item was fine).
        """

        def per_item(params: Params) -> list[dict[str, str]]:
            items = params["TransactItems"]
            codes = list(reasons) * len(items) if len(reasons) == 1 else reasons
            return [{"Code": code or "None"} for code in codes[: len(items)]]

        fault = self.fail(
            "dynamodb",
            "TransactWriteItems",
            "TransactionCanceledException",
            status=400,
            times=times,
            when=when,
        )
        # The reasons depend on the call's items: filled in as it is made.
        fault.when = _filling(fault, when, per_item)
        return fault

    def lose_answer(
        self,
        service: str,
        operation: str,
        *,
        times: int | None = 1,
        when: Callable[[Params], bool] = _always,
        meanwhile: Callable[[], object] | None = None,
    ) -> Fault:
        """The call is done, and its caller times out; `meanwhile` runs first.

        `meanwhile` is what the rest of the world does while the caller still
        waits (another function handling what the call just sent, say).
        """
        fault = _LostAnswer(operation, when, times, meanwhile=meanwhile)
        return self._add(self._after, service, fault)

    def interleave(
        self,
        service: str,
        operation: str,
        action: Callable[[], object],
        *,
        after: bool = True,
        times: int | None = 1,
        when: Callable[[Params], bool] = _always,
    ) -> Fault:
        """Run `action` right after (or before) the call, which goes on as usual.

        How a test makes two functions interleave at a chosen point.
        """
        fault = _Interleave(operation, when, times, action=action)
        return self._add(self._after if after else self._before, service, fault)

    def crash(
        self,
        service: str,
        operation: str,
        *,
        after: bool = True,
        times: int | None = 1,
        when: Callable[[Params], bool] = _always,
    ) -> Fault:
        fault = _Crash(operation, when, times)
        return self._add(self._after if after else self._before, service, fault)

    def refuse_entries(
        self,
        refuse: Callable[[dict[str, Any]], bool] = _always,
        *,
        times: int | None = 1,
        error_code: str = "InternalFailure",
    ) -> Fault:
        """`PutEvents` answers with the entries `refuse` picks refused."""
        fault = _EntryRefusal("PutEvents", _always, times)
        fault.refuse, fault.error_code = refuse, error_code
        return self._add(self._before, "events", fault)

    def clear(self) -> None:
        for faults in (*self._before.values(), *self._after.values()):
            faults.clear()

    # --- the hooks -----------------------------------------------------------

    def _add(
        self, table: dict[tuple[str, str], list[Fault]], service: str, fault: Fault
    ) -> Fault:
        key = (service, fault.operation)
        table.setdefault(key, []).append(fault)
        if key not in self._hooked:
            self._hook(service, fault.operation)
            self._hooked.add(key)
        return fault

    def _hook(self, service: str, operation: str) -> None:
        client = self._client_for(service)
        events = client.meta.events
        service_id = client.meta.service_model.service_id.hyphenize()
        name = f"{service_id}.{operation}"
        key = (service, operation)

        def keep_params(params: Params, context: dict[str, Any], **_: Any) -> None:
            # The parameters as the adapter passed them, before serialising.
            context[_PARAMS] = params

        def before(context: dict[str, Any], **_: Any) -> Any:
            return self._before_call(key, context[_PARAMS])

        def after(context: dict[str, Any], **_: Any) -> None:
            self._after_call(key, context[_PARAMS])

        events.register(f"provide-client-params.{name}", keep_params)
        events.register(f"before-call.{name}", before)
        events.register(f"after-call.{name}", after)

    def _before_call(self, key: tuple[str, str], params: Params) -> Any:
        for fault in self._before.get(key, []):
            if not fault.strikes(params):
                continue
            if isinstance(fault, _Interleave):
                fault.action()
                continue
            if isinstance(fault, _Crash):
                raise LambdaDied(f"died before {key[1]}")
            if isinstance(fault, _EntryRefusal):
                return self._put_some(fault, params)
            if isinstance(fault, _ErrorFault):
                return fault.answer()
        return None

    def _after_call(self, key: tuple[str, str], params: Params) -> None:
        for fault in self._after.get(key, []):
            if not fault.strikes(params):
                continue
            if isinstance(fault, _Interleave):
                fault.action()
                continue
            if isinstance(fault, _Crash):
                raise LambdaDied(f"died after {key[1]}")
            if isinstance(fault, _LostAnswer) and fault.meanwhile is not None:
                fault.meanwhile()
            raise ReadTimeoutError(endpoint_url=f"https://{key[0]}.fault.invalid/")

    def _put_some(
        self, fault: _EntryRefusal, params: Params
    ) -> tuple[AWSResponse, dict[str, Any]]:
        entries = params["Entries"]
        accepted = [e for e in entries if not fault.refuse(e)]
        event_ids: list[str] = []
        if accepted:
            answer = self._events_without_faults().put_events(Entries=accepted)
            event_ids = [e["EventId"] for e in answer["Entries"]]
        results: list[dict[str, Any]] = []
        for entry in entries:
            if fault.refuse(entry):
                results.append(
                    {"ErrorCode": fault.error_code, "ErrorMessage": "injected"}
                )
            else:
                results.append({"EventId": event_ids.pop(0)})
        failed = len(entries) - len(accepted)
        parsed = {"FailedEntryCount": failed, "Entries": results}
        return AWSResponse("https://fault.invalid/", 200, {}, None), parsed

    def _events_without_faults(self) -> Any:
        if self._clean_events is None:
            # The same moto, through a client with no hooks.
            self._clean_events = boto3.session.Session().client("events")
        return self._clean_events


@dataclass
class _Crash(Fault):
    pass


@dataclass
class _Interleave(Fault):
    action: Callable[[], object] = lambda: None


@dataclass
class _LostAnswer(Fault):
    meanwhile: Callable[[], object] | None = None


def _filling(
    fault: _ErrorFault,
    when: Callable[[Params], bool],
    reasons: Callable[[Params], list[dict[str, str]]],
) -> Callable[[Params], bool]:
    def picks(params: Params) -> bool:
        if not when(params):
            return False
        fault.extra = {"CancellationReasons": reasons(params)}
        return True

    return picks


def detail_type_is(detail_type: str) -> Callable[[dict[str, Any]], bool]:
    """Picks the `PutEvents` entries of one message type."""
    return lambda entry: entry["DetailType"] == detail_type


def version_is(version: int) -> Callable[[dict[str, Any]], bool]:
    """Picks the `PutEvents` entries of one message version."""
    return lambda entry: json.loads(entry["Detail"])["metadata"]["version"] == version
