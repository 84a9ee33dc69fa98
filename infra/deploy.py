"""Deploy one stage to AWS, or tear it down, with one command each.

    python -m infra.deploy deploy --stage dev     # make deploy STAGE=dev
    python -m infra.deploy destroy --stage dev    # make destroy STAGE=dev

`deploy`, in order:

1. creates or updates the stage's CloudFormation stack from
   `infra/template.json`, and waits for it;
2. reads the stack's outputs (names, Cognito ids) and the cursor secret;
3. makes each function's log group with the stage's retention, and builds
   the project as `chalice deploy` must see it, in `.local/deploy/<stage>/`:
   the app's code linked in, a config whose stage carries the stack's values
   as environment variables, and the policy files with the stage, account
   and region filled in. Nothing account-specific is written anywhere in the
   repository;
4. fetches Chalice's record of the stage from the stack's state bucket,
   runs `chalice deploy --stage <stage>` there (Chalice sets the stage's
   variables before it imports `app.py`, so the queue and bucket names of
   the event handlers are the stack's), and saves the record back, whether
   Chalice succeeded or not (`infra/record.py`);
5. does what Chalice cannot: gives each function S3 or EventBridge invokes
   asynchronously its retries and its failures queue (the on-failure
   destination), and puts the gateway responses, so API Gateway's own
   errors have our shape and CORS headers.

`destroy` runs `chalice delete` with the stage's record, deletes the log
groups and the stack, then empties and deletes the bucket and deletes the
table and the user pool, which the stack keeps on deletion (`--keep-data`
keeps them; a protected stage must be told `--keep-data` or
`--delete-data`). A protected stage (the stage's `deploy.protected`) is
deployed or torn down only with `--yes` or once its name is typed at the
terminal. Expected failures (no credentials, a stack that cannot change,
Chalice failing) end the command with one line and exit 1
(`infra/failures.py`).

`--endpoint-url` points every client, Chalice's included, at another AWS: the
rehearsal in `tests/infra` deploys to a throwaway moto server with
`--skip-rest-api` (moto cannot import Chalice's Swagger 2.0 API, so the
rehearsal deploys the app without its routes) and `--without-requirements`
(no Lambda wheels to download for a stand-in that never runs them).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from devstack.config import StageConfig
from devstack.overlay import sync_overlay
from infra import gateway_responses
from infra.failures import (
    EXPECTED,
    DeployError,
    one_line,
    stack_failure,
    unchangeable_stack,
)
from infra.generate import TEMPLATE_FILE
from infra.log_groups import delete_logs, keep_logs
from infra.record import DeployRecord
from infra.stages import (
    ASYNC_HANDLERS,
    CONSUMERS,
    ROOT,
    SETTINGS_KEY,
    DeploySettings,
    cors_origin,
    fill,
    load_deployed_stage,
    stack_name,
    stack_names,
    visibility_timeout,
)
from infra.template import (
    STATE_BUCKET_OUTPUT,
    failures_queue_id,
    output_variables,
    visibility_parameter,
)
from infra.template import parameters as template_parameters

log = logging.getLogger("infra.deploy")

WORK_DIR = ROOT / ".local" / "deploy"
# Where Chalice's record is, between its fetch and its save (infra/record.py).
STATE_DIR = ROOT / ".chalice" / "deployed"
STACK_POLL_SECONDS = 3
STACK_MAX_POLLS = 600
_NO_UPDATES = "No updates are to be performed"
_REHEARSAL_APP = '''"""Written by `infra/deploy.py --skip-rest-api`, for rehearsals.

moto cannot import the Swagger 2.0 REST API that Chalice makes, so the
rehearsal deploys the app without its routes: every other function, event
source and notification is deployed as it would be on AWS.
"""

from complete_app import app

app.routes.clear()
'''


@dataclass(frozen=True)
class Target:
    """The AWS to talk to: a region, and another endpoint for rehearsals."""

    region: str
    endpoint_url: str | None = None

    def client(self, service: str) -> Any:
        return boto3.session.Session().client(
            service, region_name=self.region, endpoint_url=self.endpoint_url
        )

    def environment(self) -> dict[str, str]:
        """The environment `chalice` runs in: the caller's, this target's."""
        env = dict(os.environ)
        # botocore prefers AWS_REGION when both are set: set both.
        env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = self.region
        if self.endpoint_url:
            env["AWS_ENDPOINT_URL"] = self.endpoint_url
        return env


@dataclass(frozen=True)
class Options:
    stage: str
    target: Target
    work_dir: Path = WORK_DIR
    state_dir: Path = STATE_DIR
    alarm_topic_arn: str | None = None
    skip_rest_api: bool = False
    with_requirements: bool = True
    # A protected stage's change goes ahead with `yes`, or when `ask` (the
    # terminal, when there is one) gets the stage's name for an answer.
    yes: bool = False
    ask: Callable[[str], str] | None = None


# --- 1. the stack ------------------------------------------------------------


def stack_parameters(
    stage: StageConfig, options: Options, exists: bool
) -> list[dict[str, Any]]:
    """The stack's parameters; optional ones keep their value when not given."""
    settings = DeploySettings.of(stage)
    given: dict[str, str | None] = {
        "Stage": stage.stage,
        "SelfSignUp": "true" if settings.self_sign_up else "false",
        # The API's origin, read by the app from the same variable.
        "AllowedOrigins": cors_origin(stage),
        "AlarmTopicArn": options.alarm_topic_arn,
    }
    for consumer in CONSUMERS:
        # One value, read by both: the queue's timeout follows the function's.
        given[visibility_parameter(consumer)] = str(visibility_timeout(stage, consumer))
    defaults = {key: p.get("Default") for key, p in template_parameters().items()}
    parameters: list[dict[str, Any]] = []
    for key, value in given.items():
        if value is None and exists:
            parameters.append({"ParameterKey": key, "UsePreviousValue": True})
        else:
            # Defaults are passed, not left implicit, so a later update can
            # keep them with UsePreviousValue (moto forgets implicit ones).
            chosen = defaults[key] if value is None else value
            parameters.append({"ParameterKey": key, "ParameterValue": chosen})
    return parameters


def stack_status(cfn: Any, name: str) -> str | None:
    """The stack's status; None when there is no such stack (or it is deleted)."""
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        # CloudFormation has no code of its own for a missing stack; our
        # stack names are valid, so its ValidationError can only mean that.
        if _code(exc) == "ValidationError":
            return None
        raise
    return str(stacks[0]["StackStatus"])


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def ensure_stack(cfn: Any, name: str, stage: StageConfig, options: Options) -> None:
    """Create the stack, or update it to the committed template; wait."""
    body = (ROOT / TEMPLATE_FILE).read_text()
    status = stack_status(cfn, name)
    refusal = unchangeable_stack(name, status, stage.stage) if status else None
    if refusal is not None:
        raise refusal
    parameters = stack_parameters(stage, options, exists=status is not None)
    if status is None:
        log.info("[1/5] creating stack %s", name)
        cfn.create_stack(StackName=name, TemplateBody=body, Parameters=parameters)
        _wait(cfn, "stack_create_complete", name)
        return
    log.info("[1/5] updating stack %s", name)
    try:
        cfn.update_stack(StackName=name, TemplateBody=body, Parameters=parameters)
    except ClientError as exc:
        # CloudFormation calls an update that changes nothing an error, told
        # apart from real ones only by its message (the AWS CLI does the same).
        if _code(exc) == "ValidationError" and _NO_UPDATES in str(exc):
            log.info("      stack %s is up to date", name)
            return
        raise
    _wait(cfn, "stack_update_complete", name)


def _wait(cfn: Any, waiter: str, name: str) -> None:
    config = {"Delay": STACK_POLL_SECONDS, "MaxAttempts": STACK_MAX_POLLS}
    try:
        cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig=config)
    except WaiterError as exc:
        raise DeployError(stack_failure(cfn, name)) from exc


def stack_outputs(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


# --- 2. the app's settings ---------------------------------------------------


def app_environment(outputs: Mapping[str, str], cursor_secret: str) -> dict[str, str]:
    """The variables the stack decides, by the app's names for them."""
    missing = [key for key in output_variables() if key not in outputs]
    if missing:
        raise DeployError(f"the stack has no output {', '.join(missing)}")
    env = {variable: outputs[key] for key, variable in output_variables().items()}
    env["CURSOR_SECRET"] = cursor_secret
    return env


def read_cursor_secret(secrets: Any, outputs: Mapping[str, str]) -> str:
    answer = secrets.get_secret_value(SecretId=outputs["CursorSecretArn"])
    return str(answer["SecretString"])


def account_id(target: Target) -> str:
    return str(target.client("sts").get_caller_identity()["Account"])


# --- 3. the project Chalice deploys ------------------------------------------


def build_project(
    stage: StageConfig, env: Mapping[str, str], account: str, options: Options
) -> Path:
    """The project as `chalice deploy` sees it; its directory."""
    project = options.work_dir / stage.stage
    chalice_settings = {
        key: value
        for key, value in stage.raw["stages"][stage.stage].items()
        if key != SETTINGS_KEY
    }
    only_this_stage = {**stage.raw, "stages": {stage.stage: chalice_settings}}
    sync_overlay(replace(stage, env={**stage.env, **env}, raw=only_this_stage), project)
    chalice_dir = project / ".chalice"
    for name in policy_files(stage):
        committed = (stage.project_dir / ".chalice" / name).read_text()
        path = chalice_dir / name
        path.unlink(missing_ok=True)
        path.write_text(fill(committed, stage.stage, account, options.target.region))
    options.state_dir.mkdir(parents=True, exist_ok=True)
    _link(chalice_dir / "deployed", options.state_dir.resolve())
    requirements = project / "requirements.txt"
    requirements.unlink(missing_ok=True)
    if options.with_requirements:
        requirements.symlink_to(stage.project_dir / "requirements.txt")
    (project / "complete_app.py").unlink(missing_ok=True)
    if options.skip_rest_api:
        _link(project / "complete_app.py", stage.project_dir / "app.py")
        (project / "app.py").unlink()
        (project / "app.py").write_text(_REHEARSAL_APP)
    return project


def policy_files(stage: StageConfig) -> set[str]:
    """The policy files the stage's functions name, relative to `.chalice/`."""
    functions = stage.raw["stages"][stage.stage].get("lambda_functions", {})
    return {f["iam_policy_file"] for f in functions.values() if "iam_policy_file" in f}


def _link(link: Path, target: Path) -> None:
    if link.is_symlink() or link.is_file():
        link.unlink()
    link.symlink_to(target)


# --- 4. chalice --------------------------------------------------------------


def run_chalice(project: Path, target: Target, *args: str) -> None:
    """Run chalice in the project; its output goes to a file beside it.

    On failure, Chalice's last line (its error, or a traceback's last line)
    is the one told, with where the rest is.
    """
    command = [_chalice_executable(), "--project-dir", str(project), *args]
    output = project.parent / f"{project.name}-chalice-{args[0]}.log"
    log.info("      %s (its output: %s)", " ".join(command[1:]), output)
    with output.open("w") as sink:
        # The command is ours, built from a fixed list and validated options.
        completed = subprocess.run(  # noqa: S603
            command,
            env=target.environment(),
            stdout=sink,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if completed.returncode != 0:
        lines = [line for line in output.read_text().splitlines() if line.strip()]
        last = lines[-1].strip() if lines else "no output"
        raise DeployError(
            f"chalice {args[0]} failed (exit {completed.returncode}): {last} "
            f"(all of it: {output})"
        )


def _chalice_executable() -> str:
    beside_python = Path(sys.executable).parent / "chalice"
    found = str(beside_python) if beside_python.exists() else shutil.which("chalice")
    if not found:
        raise DeployError(
            "chalice is not installed (pip install -r requirements-dev.txt)"
        )
    return found


def deployed_resources(state_dir: Path, stage: str) -> dict[str, dict[str, Any]]:
    """What Chalice recorded for the stage, by resource name."""
    path = state_dir / f"{stage}.json"
    if not path.exists():
        return {}
    recorded = json.loads(path.read_text())
    return {r["name"]: r for r in recorded.get("resources", [])}


# --- 5. what Chalice cannot do -----------------------------------------------


def set_failure_destination(
    lambda_client: Any, function_arn: str, retries: int, queue_arn: str
) -> None:
    """Failed events go to the failures queue instead of being dropped."""
    lambda_client.put_function_event_invoke_config(
        FunctionName=function_arn,
        MaximumRetryAttempts=retries,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )


def finish(
    stage: StageConfig, outputs: Mapping[str, str], options: Options
) -> dict[str, dict[str, Any]]:
    deployed = deployed_resources(options.state_dir, stage.stage)
    lambda_client = options.target.client("lambda")
    log.info("[5/5] on-failure destinations and gateway responses")
    for handler in ASYNC_HANDLERS:
        function = deployed.get(handler.handler)
        if function is None:
            raise DeployError(f"chalice deployed no {handler.handler} function")
        log.info(
            "      %s: %d retries, then its failures queue",
            handler.handler,
            handler.retries,
        )
        set_failure_destination(
            lambda_client,
            function["lambda_arn"],
            handler.retries,
            outputs[f"{failures_queue_id(handler)}Arn"],
        )
    rest_api = deployed.get("rest_api")
    if rest_api is not None:
        log.info("      gateway responses of API %s", rest_api["rest_api_id"])
        api_stage = stage.raw["stages"][stage.stage].get("api_gateway_stage", "api")
        gateway_responses.apply(
            options.target.client("apigateway"),
            rest_api["rest_api_id"],
            api_stage,
            cors_origin(stage),
        )
    elif not options.skip_rest_api:
        raise DeployError("chalice deployed no REST API")
    return deployed


# --- the commands ------------------------------------------------------------


def deploy(options: Options) -> dict[str, dict[str, Any]]:
    """Deploy the stage; what Chalice deployed, by resource name."""
    stage = load_deployed_stage(options.stage)
    _check_stage(stage)
    settings = DeploySettings.of(stage)
    confirm(stage, "deploy", options)
    target = options.target
    name = stack_name(stage.app_name, stage.stage)
    cfn = target.client("cloudformation")
    ensure_stack(cfn, name, stage, options)
    log.info("[2/5] reading the outputs of %s", name)
    outputs = stack_outputs(cfn, name)
    secret = read_cursor_secret(target.client("secretsmanager"), outputs)
    env = app_environment(outputs, secret)
    account = account_id(target)
    log.info(
        "[3/5] log groups (kept %d days), the project in %s",
        settings.log_retention_days,
        options.work_dir / stage.stage,
    )
    names = stack_names(stage.app_name, stage.stage, account, target.region)
    keep_logs(target.client("logs"), names, settings.log_retention_days)
    project = build_project(stage, env, account, options)
    log.info("[4/5] chalice deploy --stage %s", stage.stage)
    with kept(deploy_record(target, outputs, stage, options)):
        run_chalice(project, target, "deploy", "--stage", stage.stage)
    deployed = finish(stage, outputs, options)
    api = deployed.get("rest_api", {}).get("rest_api_url", "(not deployed)")
    log.info("deployed %s: API %s", stage.stage, api)
    log.info(
        "  user pool %s, app client %s",
        env["COGNITO_USER_POOL_ID"],
        env["COGNITO_APP_CLIENT_ID"],
    )
    return deployed


def deploy_record(
    target: Target, outputs: Mapping[str, str], stage: StageConfig, options: Options
) -> DeployRecord | None:
    """The stage's kept record; None for a stack that keeps none."""
    bucket = outputs.get(STATE_BUCKET_OUTPUT)
    if not bucket:
        return None
    return DeployRecord(target.client("s3"), bucket, stage.stage, options.state_dir)


@contextlib.contextmanager
def kept(record: DeployRecord | None) -> Iterator[None]:
    """Chalice runs with the stage's record, which is saved whatever happens."""
    if record is None:
        yield
        return
    log.info("      Chalice's record: s3://%s/%s", record.bucket, record.key)
    record.fetch()
    try:
        yield
    finally:
        try:
            record.save()
        except (BotoCoreError, ClientError) as exc:
            raise DeployError(
                f"Chalice's record could not be kept in s3://{record.bucket}/"
                f"{record.key} ({exc}); copy {record.local_file} there before "
                "the next deploy"
            ) from exc


def confirm(stage: StageConfig, command: str, options: Options) -> None:
    """A protected stage changes only when its operator says so."""
    if options.yes or not DeploySettings.of(stage).protected:
        return
    if options.ask is None:
        raise DeployError(
            f"stage {stage.stage} is protected: confirm with --yes "
            f"(make {command} STAGE={stage.stage} DEPLOY_ARGS=--yes)"
        )
    target = options.target
    answer = options.ask(
        f"{command} stage {stage.stage} in account {account_id(target)}, "
        f"{target.region}? Type the stage's name to go on: "
    )
    if answer.strip() != stage.stage:
        raise DeployError(f"{command} of stage {stage.stage} not confirmed")


def _check_stage(stage: StageConfig) -> None:
    if stage.env.get("AUTH_MODE", "gateway") == "app":
        raise DeployError(
            f"stage {stage.stage} sets AUTH_MODE=app: deployed routes need the "
            "Cognito authorizer"
        )
    if "AWS_ENDPOINT_URL" in stage.env:
        raise DeployError(f"stage {stage.stage} points at a local endpoint")


def destroy(options: Options, keep_data: bool, delete_data: bool) -> None:
    """Delete the functions, the stack and, unless kept, the stage's data."""
    stage = load_deployed_stage(options.stage)
    if DeploySettings.of(stage).protected and not (keep_data or delete_data):
        raise DeployError(
            f"stage {stage.stage} is protected: say --keep-data or --delete-data"
        )
    confirm(stage, "destroy", options)
    target = options.target
    cfn = target.client("cloudformation")
    name = stack_name(stage.app_name, stage.stage)
    exists = stack_status(cfn, name) is not None
    outputs = stack_outputs(cfn, name) if exists else {}
    account = account_id(target)
    record = deploy_record(target, outputs, stage, options)
    with kept(record):
        if deployed_resources(options.state_dir, stage.stage):
            log.info("[1/3] chalice delete --stage %s", stage.stage)
            env = {v: outputs.get(k, "deleted") for k, v in output_variables().items()}
            project = build_project(stage, env, account, options)
            run_chalice(project, target, "delete", "--stage", stage.stage)
    delete_logs(
        target.client("logs"),
        stack_names(stage.app_name, stage.stage, account, target.region),
    )
    if exists:
        log.info("[2/3] deleting stack %s", name)
        if record is not None:
            # CloudFormation deletes no bucket that holds anything.
            empty_bucket(target.client("s3"), record.bucket)
        cfn.delete_stack(StackName=name)
        _wait(cfn, "stack_delete_complete", name)
    if keep_data:
        log.info("[3/3] keeping the bucket, the table and the user pool")
        return
    log.info("[3/3] deleting the bucket, the table and the user pool")
    delete_data_resources(target, stage)


def delete_data_resources(target: Target, stage: StageConfig) -> None:
    names = stack_names(stage.app_name, stage.stage, account_id(target), target.region)
    empty_and_delete_bucket(target.client("s3"), names.bucket)
    dynamodb = target.client("dynamodb")
    try:
        dynamodb.delete_table(TableName=names.table)
    except dynamodb.exceptions.ResourceNotFoundException:
        log.info("      no table %s", names.table)
    cognito = target.client("cognito-idp")
    for pool_id in _user_pools_named(cognito, names.user_pool):
        cognito.delete_user_pool(UserPoolId=pool_id)


def empty_and_delete_bucket(s3: Any, bucket: str) -> None:
    try:
        empty_bucket(s3, bucket)
        s3.delete_bucket(Bucket=bucket)
    except s3.exceptions.NoSuchBucket:
        log.info("      no bucket %s", bucket)


def empty_bucket(s3: Any, bucket: str) -> None:
    """Delete every object of the bucket, every version and delete marker too."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if doomed:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed})


def _user_pools_named(cognito: Any, name: str) -> list[str]:
    pages = cognito.get_paginator("list_user_pools").paginate(MaxResults=60)
    return [p["Id"] for page in pages for p in page["UserPools"] if p["Name"] == name]


# --- the command line --------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy")
    parser.add_argument("command", choices=("deploy", "destroy"))
    parser.add_argument("--stage", required=True)
    parser.add_argument("--region", help="default: the AWS configuration's")
    parser.add_argument("--endpoint-url", help="another AWS, for rehearsals")
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR)
    parser.add_argument("--work-dir", type=Path, default=WORK_DIR)
    parser.add_argument("--alarm-topic-arn", help="an SNS topic for the alarms")
    parser.add_argument("--skip-rest-api", action="store_true")
    parser.add_argument("--without-requirements", action="store_true")
    parser.add_argument("--keep-data", action="store_true")
    parser.add_argument("--delete-data", action="store_true")
    parser.add_argument(
        "--yes", action="store_true", help="change a protected stage without asking"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    log.setLevel(logging.INFO)
    args = parse_args(argv)
    try:
        run(args)
    except EXPECTED as exc:
        log.error("%s failed: %s", args.command, one_line(exc))
        return 1
    except KeyboardInterrupt:
        log.error("%s interrupted", args.command)
        return 130
    return 0


def run(args: argparse.Namespace) -> None:
    region = args.region or boto3.session.Session().region_name
    if not region:
        raise DeployError("no region: set AWS_REGION or pass --region")
    # boto3 reads AWS_ENDPOINT_URL by itself: say so, and hand it to chalice.
    endpoint = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        log.info("talking to %s, not to AWS", endpoint)
    options = Options(
        stage=args.stage,
        target=Target(region=region, endpoint_url=endpoint),
        work_dir=args.work_dir,
        state_dir=args.state_dir,
        alarm_topic_arn=args.alarm_topic_arn,
        skip_rest_api=args.skip_rest_api,
        with_requirements=not args.without_requirements,
        yes=args.yes,
        ask=input if sys.stdin.isatty() else None,
    )
    if args.command == "deploy":
        deploy(options)
    else:
        destroy(options, keep_data=args.keep_data, delete_data=args.delete_data)


if __name__ == "__main__":
    sys.exit(main())
