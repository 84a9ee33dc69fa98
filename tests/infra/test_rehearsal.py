"""The real deploy script, run twice against a throwaway AWS stand-in.

What a stand-in can take is deployed and checked where it landed: the
stack, every event handler with its settings, role and policy, the event
source mappings, the bucket's notification, the on-failure destination, the
bus's rules and targets. The REST API is not (moto imports only OpenAPI 3;
Chalice makes Swagger 2.0): `test_package.py` checks the routes in
`chalice package`'s output instead, and the gateway responses are put on a
REST API made here by hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.web import CORS_ORIGIN_VARIABLE
from devstack import resources
from devstack.config import StageConfig
from devstack.resources import StackNames
from infra import gateway_responses
from infra.deploy import Target, deploy, stack_outputs
from infra.stages import (
    API_HANDLER,
    ASYNC_HANDLERS,
    CONSUMERS,
    FUNCTIONS,
    ROOT,
    S3_HANDLER,
    AsyncHandler,
    DeploySettings,
    cors_origin,
    fill,
    function_name,
    load_deployed_stage,
    log_group,
    stack_name,
    stack_names,
    state_bucket,
)
from infra.template import STATE_BUCKET_OUTPUT, failures_queue_id, output_variables
from tests.infra.conftest import (
    REGION,
    rehearsal_options,
    rehearsal_server,
    stand_in_credentials,
)
from tests.infra.iam import MOTO_ACCOUNT

STAGE = "dev"
EVENT_HANDLERS = [f for f in FUNCTIONS if f != API_HANDLER]


@dataclass(frozen=True)
class Rehearsal:
    target: Target
    stage: StageConfig
    names: StackNames
    outputs: dict[str, str]
    deployed: dict[str, dict[str, Any]]
    state_dir: Path

    def client(self, service: str) -> Any:
        return self.target.client(service)

    def queue_arn(self, name: str) -> str:
        return f"arn:aws:sqs:{REGION}:{MOTO_ACCOUNT}:{name}"

    def queue_attributes(self, name: str) -> dict[str, str]:
        sqs = self.client("sqs")
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        answer = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
        return dict(answer["Attributes"])

    def function(self, function: str) -> dict[str, Any]:
        name = function_name(self.names, function)
        return dict(self.client("lambda").get_function_configuration(FunctionName=name))


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rehearsal]:
    workdir = tmp_path_factory.mktemp("rehearsal")
    with stand_in_credentials(), rehearsal_server(workdir) as endpoint:
        deploy(rehearsal_options(endpoint, workdir / "first-clone", STAGE))
        # A second deploy, from a clone that never deployed, is an update
        # that must change nothing the first made, nor make it twice.
        options = rehearsal_options(endpoint, workdir / "second-clone", STAGE)
        deployed = deploy(options)
        stage = load_deployed_stage(STAGE)
        yield Rehearsal(
            target=options.target,
            stage=stage,
            names=stack_names(stage.app_name, STAGE, MOTO_ACCOUNT, REGION),
            outputs=stack_outputs(
                options.target.client("cloudformation"),
                stack_name(stage.app_name, STAGE),
            ),
            deployed=deployed,
            state_dir=options.state_dir,
        )


def test_the_stack_is_made_and_a_second_deploy_leaves_it_complete(
    rehearsal: Rehearsal,
) -> None:
    name = stack_name(rehearsal.stage.app_name, STAGE)

    (stack,) = rehearsal.client("cloudformation").describe_stacks(StackName=name)[
        "Stacks"
    ]

    assert stack["StackStatus"] in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
    assert rehearsal.outputs["FilesBucketName"] == rehearsal.names.bucket


@pytest.mark.parametrize("function", EVENT_HANDLERS)
def test_every_event_handler_runs_with_its_stages_memory_and_timeout(
    rehearsal: Rehearsal, function: str
) -> None:
    configuration = rehearsal.function(function)

    assert configuration["MemorySize"] == rehearsal.stage.lambda_memory(function)
    assert configuration["Timeout"] == rehearsal.stage.lambda_timeout(function)


@pytest.mark.parametrize("function", EVENT_HANDLERS)
def test_every_function_reads_the_stacks_names_and_its_generated_secret(
    rehearsal: Rehearsal, function: str
) -> None:
    secret_arn = rehearsal.outputs["CursorSecretArn"]
    secret = rehearsal.client("secretsmanager").get_secret_value(SecretId=secret_arn)

    env = rehearsal.function(function)["Environment"]["Variables"]

    for output, variable in output_variables().items():
        assert env[variable] == rehearsal.outputs[output]
    assert env["CURSOR_SECRET"] == secret["SecretString"]
    assert env["AUTH_MODE"] == "gateway"
    assert env[CORS_ORIGIN_VARIABLE] == cors_origin(rehearsal.stage)
    assert "AWS_ENDPOINT_URL" not in env


@pytest.mark.parametrize("function", EVENT_HANDLERS)
def test_every_function_has_a_role_of_its_own_with_its_policy_filled_in(
    rehearsal: Rehearsal, function: str
) -> None:
    iam = rehearsal.client("iam")
    role = rehearsal.function(function)["Role"].rsplit("/", 1)[-1]
    committed = (ROOT / ".chalice" / f"policy-{function}.json").read_text()

    (policy_name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    policy = iam.get_role_policy(RoleName=role, PolicyName=policy_name)

    assert role == function_name(rehearsal.names, function)
    assert policy["PolicyDocument"] == json.loads(
        fill(committed, STAGE, MOTO_ACCOUNT, REGION)
    )


@pytest.mark.parametrize("consumer", CONSUMERS, ids=lambda c: c.subscription)
def test_each_consumer_reads_its_own_queue_through_an_event_source_mapping(
    rehearsal: Rehearsal, consumer: Any
) -> None:
    queue = rehearsal.names.consumer_queues[consumer.subscription]
    function_arn = rehearsal.function(consumer.handler)["FunctionArn"]

    mappings = [
        m
        for m in rehearsal.client("lambda").list_event_source_mappings()[
            "EventSourceMappings"
        ]
        if m["FunctionArn"] == function_arn
    ]

    assert [m["EventSourceArn"] for m in mappings] == [rehearsal.queue_arn(queue)]
    assert mappings[0]["BatchSize"] == 10


@pytest.mark.parametrize("consumer", CONSUMERS, ids=lambda c: c.subscription)
def test_each_consumer_queue_waits_six_times_its_functions_timeout(
    rehearsal: Rehearsal, consumer: Any
) -> None:
    queue = rehearsal.names.consumer_queues[consumer.subscription]
    timeout = rehearsal.function(consumer.handler)["Timeout"]

    attributes = rehearsal.queue_attributes(queue)

    factor = resources.VISIBILITY_TIMEOUT_FACTOR
    assert int(attributes["VisibilityTimeout"]) == factor * timeout
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == rehearsal.queue_arn(
        resources.dead_letter_name(queue)
    )
    assert int(redrive["maxReceiveCount"]) == resources.CONSUMER_MAX_RECEIVE_COUNT


@pytest.mark.parametrize("consumer", CONSUMERS, ids=lambda c: c.subscription)
def test_only_the_consumers_own_rules_may_send_to_its_queue(
    rehearsal: Rehearsal, consumer: Any
) -> None:
    queue = rehearsal.names.consumer_queues[consumer.subscription]
    rules = rehearsal.client("events").list_rule_names_by_target(
        TargetArn=rehearsal.queue_arn(queue), EventBusName=rehearsal.names.event_bus
    )["RuleNames"]
    rule_arns = {
        f"arn:aws:events:{REGION}:{MOTO_ACCOUNT}:rule/"
        f"{rehearsal.names.event_bus}/{rule}"
        for rule in rules
    }

    (statement,) = json.loads(rehearsal.queue_attributes(queue)["Policy"])["Statement"]

    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert set(statement["Condition"]["ArnEquals"]["aws:SourceArn"]) == rule_arns


def test_each_rule_sends_one_version_of_its_consumers_messages_to_its_queue(
    rehearsal: Rehearsal,
) -> None:
    events = rehearsal.client("events")
    bus = rehearsal.names.event_bus
    expected = {
        rule.name: (rule.pattern, rehearsal.queue_arn(rule.target_queue))
        for rule in resources.subscription_rules(rehearsal.names)
    }

    deployed = {
        rule["Name"]: (
            json.loads(rule["EventPattern"]),
            events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)["Targets"][
                0
            ]["Arn"],
        )
        for rule in events.list_rules(EventBusName=bus)["Rules"]
        if not rule["Name"].startswith("Events-Archive-")
    }

    assert deployed == expected


def test_the_bus_archives_every_message_of_ours(rehearsal: Rehearsal) -> None:
    (archive,) = rehearsal.client("events").list_archives()["Archives"]

    assert archive["ArchiveName"] == rehearsal.names.archive
    assert archive["RetentionDays"] == resources.ARCHIVE_RETENTION_DAYS


def test_every_functions_logs_are_kept_as_long_as_the_stage_says(
    rehearsal: Rehearsal,
) -> None:
    days = DeploySettings.of(rehearsal.stage).log_retention_days
    groups = rehearsal.client("logs").describe_log_groups()["logGroups"]

    kept = {g["logGroupName"]: g.get("retentionInDays") for g in groups}

    assert kept == {log_group(rehearsal.names, f): days for f in FUNCTIONS}


def test_the_bucket_tells_the_s3_handler_of_every_created_object(
    rehearsal: Rehearsal,
) -> None:
    handler_arn = rehearsal.deployed[S3_HANDLER]["lambda_arn"]

    notification = rehearsal.client("s3").get_bucket_notification_configuration(
        Bucket=rehearsal.names.bucket
    )

    (configuration,) = notification["LambdaFunctionConfigurations"]
    assert configuration["LambdaFunctionArn"] == handler_arn
    assert configuration["Events"] == ["s3:ObjectCreated:*"]


def test_the_bucket_lets_browsers_in_from_the_stages_origin_only(
    rehearsal: Rehearsal,
) -> None:
    (rule,) = rehearsal.client("s3").get_bucket_cors(Bucket=rehearsal.names.bucket)[
        "CORSRules"
    ]

    assert rule["AllowedOrigins"] == [cors_origin(rehearsal.stage)]
    assert set(rule["AllowedMethods"]) == {"GET", "POST", "PUT", "HEAD"}


def test_the_bucket_refuses_requests_without_tls(rehearsal: Rehearsal) -> None:
    s3 = rehearsal.client("s3")
    assert rehearsal.target.endpoint_url
    assert rehearsal.target.endpoint_url.startswith("http://")

    # moto enforces the bucket's policy, and the stand-in speaks plain HTTP.
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=rehearsal.names.bucket, Key="files/a/b", Body=b"x")

    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize("handler", ASYNC_HANDLERS, ids=lambda h: h.handler)
def test_an_event_an_async_handler_fails_on_every_try_goes_to_its_failures_queue(
    rehearsal: Rehearsal, handler: AsyncHandler
) -> None:
    name = function_name(rehearsal.names, handler.handler)
    queue_arn = rehearsal.outputs[f"{failures_queue_id(handler)}Arn"]

    config = rehearsal.client("lambda").get_function_event_invoke_config(
        FunctionName=name
    )

    assert config["MaximumRetryAttempts"] == handler.retries
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn
    assert queue_arn == rehearsal.queue_arn(handler.failures_queue(rehearsal.names))


def test_no_other_function_is_invoked_asynchronously(rehearsal: Rehearsal) -> None:
    lambda_client = rehearsal.client("lambda")
    others = set(FUNCTIONS) - {h.handler for h in ASYNC_HANDLERS}

    configured = {
        function
        for function in others - {API_HANDLER}
        if lambda_client.list_function_event_invoke_configs(
            FunctionName=function_name(rehearsal.names, function)
        )["FunctionEventInvokeConfigs"]
    }

    assert others == {API_HANDLER, *(c.handler for c in CONSUMERS)}
    assert configured == set()


def test_every_queue_of_failures_raises_an_alarm_at_its_first_message(
    rehearsal: Rehearsal,
) -> None:
    failures = {
        resources.dead_letter_name(q) for q in rehearsal.names.consumer_queues.values()
    } | {h.failures_queue(rehearsal.names) for h in ASYNC_HANDLERS}

    alarms = rehearsal.client("cloudwatch").describe_alarms()["MetricAlarms"]

    watched = {
        d["Value"]
        for alarm in alarms
        if alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and alarm["Threshold"] == 0
        and alarm["ComparisonOperator"] == "GreaterThanThreshold"
        for d in alarm["Dimensions"]
    }
    assert watched == failures


def test_every_function_raises_an_alarm_at_its_first_error(
    rehearsal: Rehearsal,
) -> None:
    alarms = rehearsal.client("cloudwatch").describe_alarms()["MetricAlarms"]

    watched = {
        d["Value"]
        for alarm in alarms
        if (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", "Errors")
        and alarm["Threshold"] == 0
        for d in alarm["Dimensions"]
    }

    assert watched == {function_name(rehearsal.names, f) for f in FUNCTIONS}
    # The functions the rehearsal deployed are the ones the alarms watch.
    for function in EVENT_HANDLERS:
        assert rehearsal.function(function)["FunctionName"] in watched


def test_the_table_has_the_keys_and_indexes_the_app_queries(
    rehearsal: Rehearsal,
) -> None:
    from chalicelib.adapters.table_schema import table_definition

    expected = table_definition(rehearsal.names.table)

    table = rehearsal.client("dynamodb").describe_table(
        TableName=rehearsal.names.table
    )["Table"]

    assert table["KeySchema"] == expected["KeySchema"]
    assert sorted(i["IndexName"] for i in table["GlobalSecondaryIndexes"]) == sorted(
        i["IndexName"] for i in expected["GlobalSecondaryIndexes"]
    )
    # moto's CloudFormation skips TTL and point-in-time recovery:
    # test_template.py checks the template asks for both.
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_the_user_pool_and_its_client_are_the_ones_the_app_trusts(
    rehearsal: Rehearsal,
) -> None:
    cognito = rehearsal.client("cognito-idp")
    pool_id = rehearsal.outputs["UserPoolId"]

    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    client = cognito.describe_user_pool_client(
        UserPoolId=pool_id, ClientId=rehearsal.outputs["UserPoolClientId"]
    )["UserPoolClient"]

    assert pool["Name"] == rehearsal.names.user_pool
    assert rehearsal.outputs["UserPoolArn"] == pool["Arn"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert "ClientSecret" not in client
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }


def test_gateway_responses_are_put_on_the_rest_api_and_published(
    rehearsal: Rehearsal,
) -> None:
    apigateway = rehearsal.client("apigateway")
    api_id = _rest_api_with_one_route(apigateway)

    gateway_responses.apply(apigateway, api_id, "api", "https://files.example.com")

    put = {
        r["responseType"]: r
        for r in apigateway.get_gateway_responses(restApiId=api_id)["items"]
    }
    for response in gateway_responses.GATEWAY_RESPONSES:
        got = put[response.response_type]
        assert got["responseTemplates"] == {"application/json": response.template()}
        assert got["responseParameters"] == gateway_responses.cors_parameters(
            "https://files.example.com"
        )
    assert apigateway.get_deployments(restApiId=api_id)["items"]


def _rest_api_with_one_route(apigateway: Any) -> str:
    """A REST API as Chalice would leave it, for want of moto importing one."""
    api_id = str(apigateway.create_rest_api(name="rehearsal")["id"])
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    apigateway.put_method(
        restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE"
    )
    apigateway.put_integration(
        restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK"
    )
    return api_id


def test_a_deploy_from_another_clone_makes_nothing_twice(
    rehearsal: Rehearsal,
) -> None:
    lambda_client = rehearsal.client("lambda")
    functions = [f["FunctionName"] for f in lambda_client.list_functions()["Functions"]]
    mappings = lambda_client.list_event_source_mappings()["EventSourceMappings"]
    roles = [r["RoleName"] for r in rehearsal.client("iam").list_roles()["Roles"]]

    expected = sorted(function_name(rehearsal.names, f) for f in EVENT_HANDLERS)
    assert sorted(functions) == expected
    assert sorted(roles) == expected
    assert sorted(m["EventSourceArn"] for m in mappings) == sorted(
        rehearsal.queue_arn(q) for q in rehearsal.names.consumer_queues.values()
    )


def test_chalices_record_of_the_deploy_is_kept_in_the_stages_state_bucket(
    rehearsal: Rehearsal,
) -> None:
    bucket = rehearsal.outputs[STATE_BUCKET_OUTPUT]
    s3 = rehearsal.client("s3")
    local = rehearsal.state_dir / f"{STAGE}.json"

    kept = s3.get_object(Bucket=bucket, Key=f".chalice/deployed/{STAGE}.json")

    recorded = json.loads(kept["Body"].read())
    assert recorded == json.loads(local.read_text())
    names = {
        r["name"]
        for r in recorded["resources"]
        if r["resource_type"] == "lambda_function"
    }
    assert names == set(EVENT_HANDLERS)
    assert bucket == state_bucket(rehearsal.stage.app_name, STAGE, MOTO_ACCOUNT, REGION)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
