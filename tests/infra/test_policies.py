"""Each function's policy allows every call its code makes, and nothing more.

The calls come from running the app tier (`tests/app`) in a subprocess with
`tests/infra/call_recorder.py` loaded: every flow those tests drive, error
paths included, as the function that made each call. Each call is
translated to the IAM actions and resources AWS checks for it, and held
against that function's policy, rendered for the app tier's resource
names. The other way round, every grant must be used by some recorded call,
unless it is listed below with the reason no test can show it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.policies import Arns, policy_document
from infra.stages import (
    ACCOUNT,
    API_HANDLER,
    APP_NAME,
    ASYNC_HANDLERS,
    CONSUMERS,
    FUNCTIONS,
    OBJECT_DELETED_HANDLER,
    REGION,
    ROOT,
    S3_HANDLER,
    STAGE,
    SWEEPER,
    placeholder_names,
)
from tests.infra import iam
from tests.infra.call_recorder import LOG_VARIABLE

RECORDING_TIMEOUT_SECONDS = 240
# pytest's exit codes: all passed, some failed. A failing app test is its own
# tier's news; the calls it made are still calls the code makes.
_TESTS_RAN = {0, 1}

_LOGS = "Lambda's runtime writes the function's logs with its role"
_POLLER = "Lambda's SQS poller receives and deletes with the function's role"
# Grants that no in-process test can exercise, by function and action.
NOT_SEEN_IN_TESTS: dict[tuple[str, str], str] = {
    **{
        (function, action): _LOGS
        for function in FUNCTIONS
        for action in (
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
        )
    },
    **{
        (consumer.handler, action): _POLLER
        for consumer in CONSUMERS
        for action in (
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
        )
    },
    ("on_change_event", "sqs:GetQueueUrl"): (
        "the consumer deletes the done messages of a partly failed batch "
        "itself (chalicelib/batches.py); the app tier fails only the delete "
        "consumer's batches partway"
    ),
    **{
        (function, "s3:ListBucket"): (
            "S3 answers HeadObject on a missing key with 404 only to a caller "
            "that may list the bucket, and with 403 to anyone else"
        )
        for function in (S3_HANDLER, SWEEPER, OBJECT_DELETED_HANDLER)
    },
    **{
        (handler.handler, "sqs:SendMessage"): (
            "Lambda sends an event that failed every try to the on-failure "
            "destination with the function's role"
        )
        for handler in ASYNC_HANDLERS
    },
}


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    log = tmp_path_factory.mktemp("calls") / "calls.jsonl"
    env = {**os.environ, LOG_VARIABLE: str(log)}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/app",
        "-q",
        "-p",
        "tests.infra.call_recorder",
        "-p",
        "no:cacheprovider",
    ]
    finished = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RECORDING_TIMEOUT_SECONDS,
        check=False,
    )
    assert finished.returncode in _TESTS_RAN, finished.stdout[-3000:]
    return [json.loads(line) for line in log.read_text().splitlines()]


def _policy(function: str, calls: list[dict[str, Any]]) -> dict[str, Any]:
    names = iam.names_of(calls, APP_NAME, "apptest")
    region = calls[0]["settings"]["AWS_REGION"]
    return policy_document(function, Arns(names, iam.MOTO_ACCOUNT, region))


def _needed(calls: list[dict[str, Any]], function: str) -> set[iam.Permission]:
    return {
        permission
        for call in calls
        if call["function"] == function
        for permission in iam.permissions(call)
    }


def test_the_app_tier_drives_every_deployed_function(
    calls: list[dict[str, Any]],
) -> None:
    assert {call["function"] for call in calls} == set(FUNCTIONS)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_call_a_function_makes_is_allowed_by_its_policy(
    calls: list[dict[str, Any]], function: str
) -> None:
    policy = _policy(function, calls)

    refused = {p for p in _needed(calls, function) if not iam.allows(policy, p)}

    assert refused == set()


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_policy_grants_nothing_its_function_does_not_use(
    calls: list[dict[str, Any]], function: str
) -> None:
    needed = _needed(calls, function)

    unused = {
        grant
        for grant in iam.grants(_policy(function, calls))
        if not any(iam.covers(grant, permission) for permission in needed)
        and (function, grant[0]) not in NOT_SEEN_IN_TESTS
    }

    assert unused == set()


def test_every_listed_exception_is_still_granted(calls: list[dict[str, Any]]) -> None:
    granted = {
        (function, action)
        for function in FUNCTIONS
        for action, _ in iam.grants(_policy(function, calls))
    }

    assert set(NOT_SEEN_IN_TESTS) - granted == set()


def test_the_change_feed_writes_its_expiry_where_the_table_looks_for_it(
    calls: list[dict[str, Any]],
) -> None:
    from infra.template import TTL_ATTRIBUTE

    written = {
        attribute
        for call in calls
        if call["function"] == "on_change_event"
        for item in call["params"].get("TransactItems", [])
        for body in item.values()
        for attribute in body["Attributes"]
    }

    assert TTL_ATTRIBUTE in written


# --- the committed files, without the recording ------------------------------


def _committed(function: str) -> dict[str, Any]:
    path = Path(ROOT, ".chalice", f"policy-{function}.json")
    document: dict[str, Any] = json.loads(path.read_text())
    return document


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_action_in_a_policy_exists_in_iam(function: str) -> None:
    known = _iam_actions()

    unknown = {a for a, _ in iam.grants(_committed(function)) if a.lower() not in known}

    assert unknown == set()


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_policy_names_only_its_own_stages_resources(function: str) -> None:
    resources = {r for _, r in iam.grants(_committed(function))}

    assert all(STAGE in r for r in resources), resources
    assert all(REGION in r or ":s3:::" in r for r in resources), resources
    assert "*" not in resources


def test_the_api_handler_may_not_delete_objects_or_consume_queues() -> None:
    actions = {a for a, _ in iam.grants(_committed(API_HANDLER))}

    assert not {a for a in actions if a.startswith("sqs:")}
    assert "s3:DeleteObject" not in actions


def test_policies_are_rendered_from_the_placeholder_names() -> None:
    arns = Arns(placeholder_names(), ACCOUNT, REGION)

    for function in FUNCTIONS:
        assert policy_document(function, arns) == _committed(function)


def _iam_actions() -> set[str]:
    """Every IAM action cfn-lint knows, as `service:action` in lower case."""
    import cfnlint.data.AdditionalSpecs as specs

    data = json.loads((Path(specs.__file__).parent / "Policies.json").read_text())
    return {
        f"{service}:{action}"
        for service, spec in data.items()
        for action in spec.get("Actions", {})
    }
