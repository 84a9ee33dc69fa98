"""What a stand-in cannot take, read from `chalice package` instead.

moto cannot import the REST API Chalice makes, so the routes are checked in
the Terraform that `chalice package --pkg-format terraform --stage dev`
writes for the same project the deploy script builds: every route carries
the Cognito authorizer and answers CORS preflights, and every event
handler has its event source on the stack's resources.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from chalicelib.tracing import TRACE_HEADER
from chalicelib.web import CORS_ORIGIN_VARIABLE
from infra.deploy import Options, Target, app_environment, build_project
from infra.stages import (
    CONSUMERS,
    FUNCTIONS,
    ROOT,
    S3_HANDLER,
    fill,
    load_deployed_stage,
    policy_file,
)
from infra.template import output_variables
from tests.infra.conftest import REGION, stand_in_credentials

STAGE = "dev"
ACCOUNT = "210987654321"
POOL_ARN = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_Pool1"
# The API's own description is public by design: clients read it to sign in.
PUBLIC_ROUTES = {("/openapi.json", "get")}
ORIGIN = "https://files.example.com"

Json = dict[str, Any]


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    outputs = {key: f"stack-{key.lower()}" for key in output_variables()}
    outputs["UserPoolArn"] = POOL_ARN
    return app_environment(outputs, "generated-secret")


@pytest.fixture(scope="module")
def terraform(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Json:
    workdir = tmp_path_factory.mktemp("package")
    options = Options(
        STAGE,
        Target(REGION),
        work_dir=workdir / "projects",
        state_dir=workdir / "deployed",
        with_requirements=False,
    )
    # A stage with an origin of its own: Chalice writes the preflights' from
    # the app, imported with the stage's variables.
    stage = load_deployed_stage(STAGE)
    stage = replace(stage, env={**stage.env, CORS_ORIGIN_VARIABLE: ORIGIN})
    project = build_project(stage, env, ACCOUNT, options)
    out = workdir / "terraform"
    with stand_in_credentials():
        packaged = subprocess.run(
            [
                str(Path(sys.executable).parent / "chalice"),
                "--project-dir",
                str(project),
                "package",
                "--pkg-format",
                "terraform",
                "--stage",
                STAGE,
                str(out),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    assert packaged.returncode == 0, packaged.stdout + packaged.stderr
    document: Json = json.loads((out / "chalice.tf.json").read_text())
    return document


@pytest.fixture(scope="module")
def swagger(terraform: Json) -> Json:
    document: Json = json.loads(terraform["locals"]["chalice_api_swagger"])
    return document


def _operations(swagger: Json) -> dict[tuple[str, str], Json]:
    return {
        (path, method): operation
        for path, methods in swagger["paths"].items()
        for method, operation in methods.items()
        if method != "options"
    }


def test_every_route_of_the_api_contract_is_packaged(swagger: Json) -> None:
    contract = json.loads((ROOT / "chalicelib" / "openapi.json").read_text())

    promised = {
        (path, method)
        for path, methods in contract["paths"].items()
        for method in methods
    }

    assert promised <= set(_operations(swagger))


def test_every_route_but_the_public_ones_carries_the_cognito_authorizer(
    swagger: Json,
) -> None:
    (name,) = swagger["securityDefinitions"]
    authorizer = swagger["securityDefinitions"][name]

    for route, operation in _operations(swagger).items():
        expected = None if route in PUBLIC_ROUTES else [{name: []}]
        assert operation.get("security") == expected, route
    assert authorizer["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    assert authorizer["x-amazon-apigateway-authorizer"]["providerARNs"] == [POOL_ARN]
    assert authorizer["name"] == "Authorization"


def test_every_route_answers_cors_preflights_from_the_stages_origin(
    swagger: Json,
) -> None:
    for path, methods in swagger["paths"].items():
        integration = methods["options"]["x-amazon-apigateway-integration"]
        headers = integration["responses"]["default"]["responseParameters"]

        allowed = headers["method.response.header.Access-Control-Allow-Headers"]
        assert "Authorization" in allowed, path
        assert TRACE_HEADER in allowed, path
        assert (
            TRACE_HEADER
            in headers["method.response.header.Access-Control-Expose-Headers"]
        ), path
        origin = headers["method.response.header.Access-Control-Allow-Origin"]
        assert origin == f"'{ORIGIN}'", path


@pytest.mark.parametrize("consumer", CONSUMERS, ids=lambda c: c.subscription)
def test_each_consumer_reads_the_stacks_queue(
    terraform: Json, env: dict[str, str], consumer: Any
) -> None:
    mappings = terraform["resource"]["aws_lambda_event_source_mapping"]

    (mapping,) = [
        m
        for m in mappings.values()
        if m["function_name"] == f"${{aws_lambda_function.{consumer.handler}.arn}}"
    ]

    assert mapping["event_source_arn"].endswith(f":{env[consumer.queue_variable]}")
    assert mapping["batch_size"] == 10


def test_the_s3_handler_hears_of_every_object_created_in_the_stacks_bucket(
    terraform: Json, env: dict[str, str]
) -> None:
    (notification,) = terraform["resource"]["aws_s3_bucket_notification"].values()

    assert notification["bucket"] == env["FILES_BUCKET"]
    (target,) = notification["lambda_function"]
    assert target["lambda_function_arn"] == f"${{aws_lambda_function.{S3_HANDLER}.arn}}"
    assert target["events"] == ["s3:ObjectCreated:*"]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_is_packaged_with_its_stage_settings_and_own_policy(
    terraform: Json, function: str
) -> None:
    stage = load_deployed_stage(STAGE)
    resource = terraform["resource"]

    packaged = resource["aws_lambda_function"][function]
    policy = resource["aws_iam_role_policy"][f"{function}_role"]["policy"]

    assert packaged["memory_size"] == stage.lambda_memory(function)
    assert packaged["timeout"] == stage.lambda_timeout(function)
    assert packaged["role"] == f"${{aws_iam_role.{function}_role.arn}}"
    committed = (ROOT / ".chalice" / policy_file(function)).read_text()
    assert json.loads(policy) == json.loads(fill(committed, STAGE, ACCOUNT, REGION))
