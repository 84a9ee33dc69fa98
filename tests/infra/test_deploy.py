"""The deployed stages' settings and the deploy script's steps, one by one."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.web import CORS_ORIGIN_VARIABLE
from devstack import resources
from devstack.config import StageConfig, load_stage
from infra.deploy import (
    DeployError,
    Options,
    Target,
    _check_stage,
    app_environment,
    build_project,
    empty_and_delete_bucket,
    kept,
    policy_files,
    stack_parameters,
)
from infra.log_groups import delete_logs, keep_logs
from infra.record import DeployRecord
from infra.stages import (
    ACCOUNT,
    CONSUMERS,
    FUNCTIONS,
    REGION,
    ROOT,
    SETTINGS_KEY,
    STAGE,
    DeploySettings,
    SettingsError,
    cors_origin,
    load_deployed_stage,
    log_group,
    policy_file,
    stack_names,
    visibility_timeout,
)
from infra.template import output_variables, parameters, visibility_parameter

DEPLOYED_STAGES = ("dev", "prod")


def _stage_settings(stage: str) -> dict[str, Any]:
    settings: dict[str, Any] = load_stage(ROOT, stage).raw["stages"][stage]
    return settings


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_a_deployed_stage_gives_every_function_memory_a_timeout_and_its_policy(
    stage: str,
) -> None:
    settings = _stage_settings(stage)

    functions = settings["lambda_functions"]

    assert settings["autogen_policy"] is False
    assert set(functions) == set(FUNCTIONS)
    for function, config in functions.items():
        assert config["lambda_memory_size"] >= 128
        assert config["lambda_timeout"] >= 1
        assert config["iam_policy_file"] == policy_file(function)
        assert (ROOT / ".chalice" / config["iam_policy_file"]).exists()


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_a_deployed_stage_uses_api_gateways_authorizer_and_no_local_endpoint(
    stage: str,
) -> None:
    config = load_deployed_stage(stage)

    _check_stage(config)

    assert config.env["AUTH_MODE"] == "gateway"


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_no_resource_name_id_or_secret_is_committed_for_a_deployed_stage(
    stage: str,
) -> None:
    from_the_stack = {*output_variables().values(), "CURSOR_SECRET"}

    committed = set(load_deployed_stage(stage).env)

    assert committed & from_the_stack == set()


def test_the_deploy_refuses_a_stage_that_turns_the_authorizer_off() -> None:
    with pytest.raises(DeployError, match="AUTH_MODE=app"):
        _check_stage(load_stage(ROOT, "local"))


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_a_deployed_stages_name_is_one_the_template_takes(stage: str) -> None:
    assert re.fullmatch(parameters()["Stage"]["AllowedPattern"], stage)


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_a_consumer_queue_waits_six_times_its_functions_timeout(stage: str) -> None:
    config = load_deployed_stage(stage)
    target = Target(region="eu-west-1")

    passed = {
        p["ParameterKey"]: p.get("ParameterValue")
        for p in stack_parameters(config, Options(stage, target), exists=False)
    }

    for consumer in CONSUMERS:
        timeout = config.lambda_timeout(consumer.handler)
        assert int(passed[visibility_parameter(consumer)]) == 6 * timeout
        assert visibility_timeout(config, consumer) == 6 * timeout


def test_the_local_consumer_queues_wait_six_times_their_functions_timeout() -> None:
    local = load_stage(ROOT, "local")

    for consumer in CONSUMERS:
        needed = resources.VISIBILITY_TIMEOUT_FACTOR * local.lambda_timeout(
            consumer.handler
        )
        assert needed <= resources.CONSUMER_VISIBILITY_TIMEOUT


def test_a_new_stack_gets_every_parameter_spelled_out() -> None:
    config = load_deployed_stage("dev")

    passed = stack_parameters(config, Options("dev", Target("eu-west-1")), False)

    assert {p["ParameterKey"] for p in passed} == set(parameters())
    assert all("ParameterValue" in p for p in passed)
    assert {"ParameterKey": "AllowedOrigins", "ParameterValue": "*"} in passed


def test_an_update_keeps_the_alarm_topic_it_is_not_given() -> None:
    config = load_deployed_stage("prod")
    options = Options("prod", Target("eu-west-1"))

    passed = {p["ParameterKey"]: p for p in stack_parameters(config, options, True)}

    assert passed["AlarmTopicArn"] == {
        "ParameterKey": "AlarmTopicArn",
        "UsePreviousValue": True,
    }
    assert passed["Stage"]["ParameterValue"] == "prod"


def _with_origin(stage: str, origin: str) -> StageConfig:
    config = load_deployed_stage(stage)
    return replace(config, env={**config.env, CORS_ORIGIN_VARIABLE: origin})


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_the_bucket_answers_browsers_from_the_apis_own_origin(stage: str) -> None:
    config = _with_origin(stage, "https://files.example.com")
    options = Options(stage, Target("eu-west-1"))

    passed = {p["ParameterKey"]: p for p in stack_parameters(config, options, True)}

    assert passed["AllowedOrigins"] == {
        "ParameterKey": "AllowedOrigins",
        "ParameterValue": "https://files.example.com",
    }


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_a_stage_names_its_origin_in_its_settings(stage: str) -> None:
    config = load_deployed_stage(stage)

    assert cors_origin(config) == config.env[CORS_ORIGIN_VARIABLE]


@pytest.mark.parametrize(
    "origin",
    [
        "https://a.example.com,https://b.example.com",
        "https://files.example.com/",
        "files.example.com",
        "",
    ],
)
def test_an_origin_the_api_cannot_answer_with_stops_the_deploy(origin: str) -> None:
    with pytest.raises(SettingsError, match=CORS_ORIGIN_VARIABLE):
        cors_origin(_with_origin("dev", origin))


def _with_settings(stage: str, **settings: Any) -> StageConfig:
    config = load_deployed_stage(stage)
    raw = json.loads(json.dumps(config.raw))
    raw["stages"][stage][SETTINGS_KEY] = settings
    return replace(config, raw=raw)


def _passed(config: StageConfig) -> dict[str, str]:
    options = Options(config.stage, Target("eu-west-1"))
    return {
        p["ParameterKey"]: p["ParameterValue"]
        for p in stack_parameters(config, options, exists=False)
    }


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_sign_up_is_closed_unless_a_stage_opens_it(stage: str) -> None:
    closed = _passed(load_deployed_stage(stage))
    opened = _passed(_with_settings(stage, self_sign_up=True))

    assert closed["SelfSignUp"] == "false"
    assert opened["SelfSignUp"] == "true"


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"self_signup": True}, "unknown deploy setting self_signup"),
        ({"self_sign_up": "yes"}, "self_sign_up must be a boolean"),
        ({"log_retention_days": True}, "log_retention_days must be a number"),
        ({"log_retention_days": 31}, "log_retention_days must be one of"),
    ],
)
def test_a_stage_setting_the_deploy_cannot_act_on_stops_it(
    settings: dict[str, Any], complaint: str
) -> None:
    config = _with_settings("dev", **settings)

    with pytest.raises(SettingsError, match=complaint):
        DeploySettings.of(config)


@pytest.mark.parametrize(("stage", "days"), [("dev", 30), ("prod", 90)])
def test_a_stage_keeps_its_logs_as_long_as_it_says(stage: str, days: int) -> None:
    assert DeploySettings.of(load_deployed_stage(stage)).log_retention_days == days


def test_chalice_never_sees_the_deploy_settings(
    tmp_path: Path, project_env: dict[str, str]
) -> None:
    project = _build(tmp_path, project_env)

    config = json.loads((project / ".chalice" / "config.json").read_text())

    assert SETTINGS_KEY in load_deployed_stage("dev").raw["stages"]["dev"]
    assert SETTINGS_KEY not in config["stages"]["dev"]


def test_the_apps_settings_come_from_the_stacks_outputs() -> None:
    outputs = {key: f"value-of-{key}" for key in output_variables()}

    env = app_environment(outputs, "s3cr3t")

    assert env["FILES_BUCKET"] == "value-of-FilesBucketName"
    assert env["COGNITO_USER_POOL_ARN"] == "value-of-UserPoolArn"
    assert env["CURSOR_SECRET"] == "s3cr3t"


def test_a_stack_without_an_output_the_app_needs_stops_the_deploy() -> None:
    outputs = {key: "x" for key in output_variables() if key != "UserPoolArn"}

    with pytest.raises(DeployError, match="UserPoolArn"):
        app_environment(outputs, "s3cr3t")


# --- the project chalice deploys ---------------------------------------------


@pytest.fixture
def project_env() -> dict[str, str]:
    outputs = {key: f"stack-{key}" for key in output_variables()}
    return app_environment(outputs, "generated-secret")


def _build(tmp_path: Path, env: dict[str, str], **options: Any) -> Path:
    config = load_deployed_stage("dev")
    chosen = Options(
        "dev",
        Target("eu-west-1"),
        work_dir=tmp_path / "work",
        state_dir=tmp_path / "state",
        **options,
    )
    return build_project(config, env, "210987654321", chosen)


def test_the_project_carries_the_stacks_values_as_the_stages_variables(
    tmp_path: Path, project_env: dict[str, str]
) -> None:
    project = _build(tmp_path, project_env)

    config = json.loads((project / ".chalice" / "config.json").read_text())

    assert list(config["stages"]) == ["dev"]
    env = config["stages"]["dev"]["environment_variables"]
    assert {k: env[k] for k in project_env} == project_env
    assert env["AUTH_MODE"] == "gateway"
    assert (
        env[CORS_ORIGIN_VARIABLE]
        == load_deployed_stage("dev").env[CORS_ORIGIN_VARIABLE]
    )


def test_the_projects_policies_name_the_stage_account_and_region(
    tmp_path: Path, project_env: dict[str, str]
) -> None:
    project = _build(tmp_path, project_env)

    for name in policy_files(load_deployed_stage("dev")):
        text = (project / ".chalice" / name).read_text()
        assert STAGE not in text
        assert ACCOUNT not in text
        assert REGION not in text
        assert "filemanager-dev-" in text
        assert ":eu-west-1:210987654321:" in text


def test_the_project_ships_the_apps_code_its_requirements_and_keeps_state_apart(
    tmp_path: Path, project_env: dict[str, str]
) -> None:
    project = _build(tmp_path, project_env)

    assert (project / "app.py").resolve() == ROOT / "app.py"
    assert (project / "chalicelib" / "settings.py").resolve() == (
        ROOT / "chalicelib" / "settings.py"
    )
    assert (project / "requirements.txt").resolve() == ROOT / "requirements.txt"
    assert (project / ".chalice" / "deployed").resolve() == tmp_path / "state"


def test_a_rehearsal_project_has_the_app_without_its_routes(
    tmp_path: Path, project_env: dict[str, str]
) -> None:
    project = _build(tmp_path, project_env, skip_rest_api=True, with_requirements=False)

    assert "app.routes.clear()" in (project / "app.py").read_text()
    assert (project / "complete_app.py").resolve() == ROOT / "app.py"
    assert not (project / "requirements.txt").exists()


def test_building_the_project_again_turns_a_rehearsal_back_into_the_app(
    tmp_path: Path, project_env: dict[str, str]
) -> None:
    _build(tmp_path, project_env, skip_rest_api=True, with_requirements=False)

    project = _build(tmp_path, project_env)

    assert (project / "app.py").resolve() == ROOT / "app.py"
    assert (project / "requirements.txt").exists()


# --- log groups --------------------------------------------------------------


@pytest.fixture
def in_process_aws() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        with mock_aws():
            yield


def _retentions(logs: Any) -> dict[str, int | None]:
    groups = logs.describe_log_groups()["logGroups"]
    return {g["logGroupName"]: g.get("retentionInDays") for g in groups}


def test_every_functions_log_group_is_made_with_the_stages_retention(
    in_process_aws: None,
) -> None:
    logs = boto3.client("logs", region_name="eu-west-1")
    names = stack_names("filemanager", "dev", "210987654321", "eu-west-1")

    keep_logs(logs, names, 30)

    assert _retentions(logs) == {log_group(names, f): 30 for f in FUNCTIONS}
    assert log_group(names, "api_handler") == "/aws/lambda/filemanager-dev"


def test_a_log_group_lambda_made_already_gets_the_retention_too(
    in_process_aws: None,
) -> None:
    logs = boto3.client("logs", region_name="eu-west-1")
    names = stack_names("filemanager", "prod", "210987654321", "eu-west-1")
    made_by_lambda = log_group(names, "sweep_index")
    logs.create_log_group(logGroupName=made_by_lambda)

    keep_logs(logs, names, 90)
    keep_logs(logs, names, 90)

    assert _retentions(logs)[made_by_lambda] == 90
    assert set(_retentions(logs).values()) == {90}


def test_deleting_the_log_groups_twice_is_fine(in_process_aws: None) -> None:
    logs = boto3.client("logs", region_name="eu-west-1")
    names = stack_names("filemanager", "dev", "210987654321", "eu-west-1")
    keep_logs(logs, names, 30)

    delete_logs(logs, names)
    delete_logs(logs, names)

    assert _retentions(logs) == {}


# --- Chalice's record ---------------------------------------------------------


@pytest.fixture
def record(in_process_aws: None, tmp_path: Path) -> DeployRecord:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="state")
    return DeployRecord(s3, "state", "dev", tmp_path / "deployed")


def _kept(record: DeployRecord) -> Any:
    body = record.s3.get_object(Bucket=record.bucket, Key=record.key)["Body"]
    return json.loads(body.read())


def test_the_kept_record_replaces_whatever_this_clone_had(
    record: DeployRecord,
) -> None:
    record.s3.put_object(Bucket="state", Key=record.key, Body=b'{"resources": [1]}')
    record.local_dir.mkdir()
    record.local_file.write_text('{"resources": ["stale"]}')

    record.fetch()

    assert json.loads(record.local_file.read_text()) == {"resources": [1]}


def test_a_stage_with_no_kept_record_starts_with_none(record: DeployRecord) -> None:
    record.fetch()

    assert not record.local_file.exists()


def test_a_record_kept_before_records_were_kept_is_taken_and_then_kept(
    record: DeployRecord,
) -> None:
    record.local_dir.mkdir()
    record.local_file.write_text('{"resources": ["old"]}')

    with kept(record):
        pass

    assert _kept(record) == {"resources": ["old"]}


def _run_chalice(record: DeployRecord, chalice: Callable[[], None]) -> None:
    with kept(record):
        chalice()


def test_the_record_is_kept_even_when_chalice_fails(record: DeployRecord) -> None:
    record.local_dir.mkdir()

    def fail_after_recording() -> None:
        record.local_file.write_text('{"resources": ["recorded"]}')
        raise DeployError("chalice deploy failed (exit 2)")

    with pytest.raises(DeployError, match="chalice deploy failed"):
        _run_chalice(record, fail_after_recording)

    assert _kept(record) == {"resources": ["recorded"]}


def test_a_record_that_cannot_be_kept_says_where_it_is(
    record: DeployRecord,
) -> None:
    record.local_dir.mkdir()

    def record_but_lose_the_bucket() -> None:
        record.local_file.write_text("{}")
        record.s3.delete_bucket(Bucket=record.bucket)

    with pytest.raises(DeployError, match=re.escape(f"copy {record.local_file}")):
        _run_chalice(record, record_but_lose_the_bucket)


# --- teardown ----------------------------------------------------------------


@pytest.fixture
def s3(in_process_aws: None) -> Any:
    return boto3.client("s3", region_name="us-east-1")


def test_a_bucket_is_emptied_of_objects_versions_and_delete_markers_then_deleted(
    s3: Any,
) -> None:
    s3.create_bucket(Bucket="doomed")
    s3.put_bucket_versioning(
        Bucket="doomed", VersioningConfiguration={"Status": "Enabled"}
    )
    for n in range(3):
        s3.put_object(Bucket="doomed", Key=f"files/a/{n}", Body=b"one")
        s3.put_object(Bucket="doomed", Key=f"files/a/{n}", Body=b"two")
    s3.delete_object(Bucket="doomed", Key="files/a/0")

    empty_and_delete_bucket(s3, "doomed")

    assert s3.list_buckets()["Buckets"] == []


def test_emptying_a_bucket_that_is_gone_already_is_fine(s3: Any) -> None:
    empty_and_delete_bucket(s3, "never-made")

    assert s3.list_buckets()["Buckets"] == []
