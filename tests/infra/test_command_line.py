"""The deploy command's own behaviour: one line per expected failure, and a
protected stage changed only when its operator says so."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from infra.deploy import Options, Target, confirm, destroy, main, run_chalice
from infra.failures import DeployError, stack_failure, unchangeable_stack
from infra.stages import load_deployed_stage

# Nothing listens there: a command that reached AWS would fail otherwise.
NOWHERE = "http://127.0.0.1:9"


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.fixture
def no_credentials(tmp_path: Path) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name in (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_ENDPOINT_URL",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        ):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield


def test_a_deploy_without_credentials_says_so_in_one_line(
    no_credentials: None,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["deploy", "--stage", "dev", "--region", "eu-west-1"])

    (error,) = _errors(caplog)
    assert status == 1
    assert error.startswith("deploy failed: no usable AWS credentials")
    assert "\n" not in error
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("command", ["deploy", "destroy"])
def test_a_protected_stage_is_not_changed_without_yes_when_nobody_can_answer(
    command: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    argv = [command, "--stage", "prod", "--region", "eu-west-1"]
    # A teardown says what of the data first; then it is asked for --yes.
    data = ["--keep-data"] if command == "destroy" else []

    status = main([*argv, "--endpoint-url", NOWHERE, *data])

    assert status == 1
    assert _errors(caplog)[-1] == (
        f"{command} failed: stage prod is protected: confirm with --yes "
        f"(make {command} STAGE=prod DEPLOY_ARGS=--yes)"
    )


def test_a_protected_stages_teardown_must_say_what_of_its_data(
    tmp_path: Path,
) -> None:
    options = Options("prod", Target("eu-west-1", NOWHERE), yes=True)

    with pytest.raises(DeployError, match="--keep-data or --delete-data"):
        destroy(options, keep_data=False, delete_data=False)


@pytest.fixture
def in_process_aws() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        with mock_aws():
            yield


def test_the_operator_confirms_a_protected_stage_by_typing_its_name(
    in_process_aws: None,
) -> None:
    asked: list[str] = []

    def answer(prompt: str) -> str:
        asked.append(prompt)
        return "prod\n"

    options = Options("prod", Target("eu-west-1"), ask=answer)

    confirm(load_deployed_stage("prod"), "destroy", options)

    (prompt,) = asked
    assert "destroy stage prod in account 123456789012, eu-west-1?" in prompt


def test_any_other_answer_changes_nothing(in_process_aws: None) -> None:
    options = Options("prod", Target("eu-west-1"), ask=lambda prompt: "y")

    with pytest.raises(DeployError, match="deploy of stage prod not confirmed"):
        confirm(load_deployed_stage("prod"), "deploy", options)


def test_an_unprotected_stage_asks_nothing() -> None:
    options = Options("dev", Target("eu-west-1", NOWHERE))

    confirm(load_deployed_stage("dev"), "deploy", options)

    assert options.ask is None


@pytest.mark.parametrize(
    ("status", "advice"),
    [
        ("CREATE_IN_PROGRESS", "is busy (CREATE_IN_PROGRESS): wait"),
        ("UPDATE_ROLLBACK_IN_PROGRESS", "is busy"),
        ("ROLLBACK_COMPLETE", "delete it first (make destroy STAGE=dev)"),
        ("ROLLBACK_FAILED", "delete it first"),
        ("DELETE_FAILED", "delete it first"),
        ("UPDATE_ROLLBACK_FAILED", "continue-update-rollback --stack-name s"),
    ],
)
def test_a_stack_that_cannot_be_updated_says_what_to_do(
    status: str, advice: str
) -> None:
    refusal = unchangeable_stack("s", status, "dev")

    assert refusal is not None
    assert advice in str(refusal)


@pytest.mark.parametrize(
    "status", ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"]
)
def test_a_settled_stack_can_be_updated(status: str) -> None:
    assert unchangeable_stack("s", status, "dev") is None


class _RolledBackStack:
    """CloudFormation's answers about a stack whose update rolled back."""

    stack_id = "arn:aws:cloudformation:eu-west-1:1:stack/s/1"

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        status = "UPDATE_ROLLBACK_COMPLETE"
        return {"Stacks": [{"StackId": self.stack_id, "StackStatus": status}]}

    def describe_stack_events(self, StackName: str) -> dict[str, Any]:
        def event(logical: str, status: str, reason: str = "") -> dict[str, Any]:
            physical = self.stack_id if logical == "s" else logical
            return {
                "LogicalResourceId": logical,
                "PhysicalResourceId": physical,
                "ResourceStatus": status,
                "ResourceStatusReason": reason,
            }

        # Newest first, as CloudFormation lists them.
        return {
            "StackEvents": [
                event("s", "UPDATE_ROLLBACK_COMPLETE"),
                event("Table", "UPDATE_FAILED", "Resource update cancelled"),
                event("FilesBucket", "UPDATE_FAILED", "bucket name already taken"),
                event("s", "UPDATE_IN_PROGRESS", "User Initiated"),
                event("Queue", "CREATE_FAILED", "an older run's failure"),
            ]
        }


def test_a_failed_stack_run_is_told_by_its_first_failure() -> None:
    told = stack_failure(_RolledBackStack(), "s")

    assert told == (
        "stack s ended UPDATE_ROLLBACK_COMPLETE: FilesBucket UPDATE_FAILED: "
        "bucket name already taken"
    )


def test_a_failing_chalice_is_told_by_its_last_line_and_where_the_rest_is(
    tmp_path: Path,
) -> None:
    project = tmp_path / "dev"
    (project / ".chalice").mkdir(parents=True)
    (project / ".chalice" / "config.json").write_text(
        json.dumps({"version": "2.0", "app_name": "broken", "stages": {"dev": {}}})
    )
    (project / "app.py").write_text("raise RuntimeError('the app cannot import')\n")

    with pytest.raises(DeployError) as failed:
        run_chalice(project, Target("eu-west-1", NOWHERE), "package", str(tmp_path))

    message = str(failed.value)
    assert message.startswith("chalice package failed (exit ")
    assert "the app cannot import" in message
    assert str(tmp_path / "dev-chalice-package.log") in message
    assert "\n" not in message
