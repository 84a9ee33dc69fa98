"""The CloudFormation template: generated, valid, and the local stack's twin.

Where the local stack and a deployed stage must agree (the table, the rules'
patterns, queue settings, CORS, the user pool), these tests hold the
committed template to the definitions the local stack reads.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file

from chalicelib.adapters.table_schema import table_definition
from chalicelib.messages import SUBSCRIPTIONS
from devstack import resources
from devstack.config import load_stage
from infra.generate import TEMPLATE_FILE, stale_files
from infra.stages import (
    ASYNC_HANDLERS,
    CONSUMERS,
    FUNCTIONS,
    OBJECT_DELETED_HANDLER,
    ROOT,
    S3_HANDLER,
    SWEEPER,
    AsyncHandler,
    fill,
    function_name,
    placeholder_names,
    placeholder_state_bucket,
    stack_names,
)
from infra.template import (
    BUCKET,
    SELF_SIGN_UP,
    STATE_BUCKET,
    STATE_BUCKET_OUTPUT,
    TABLE,
    TTL_ATTRIBUTE,
    USER_POOL,
    USER_POOL_CLIENT,
    dead_letter_id,
    failures_queue_id,
    output_variables,
    queue_id,
    visibility_parameter,
)

# CreateStack takes a template body of at most this many bytes.
TEMPLATE_BODY_LIMIT = 51_200

Json = dict[str, Any]


@pytest.fixture(scope="module")
def template() -> Json:
    document: Json = json.loads((ROOT / TEMPLATE_FILE).read_text())
    return document


def _resources_of_type(template: Json, kind: str) -> dict[str, Json]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def _subbed(value: Any) -> str:
    """A name as the template writes it, placeholders left in."""
    return value["Fn::Sub"] if isinstance(value, dict) else str(value)


def test_the_committed_template_and_policies_are_what_the_generator_writes() -> None:
    assert stale_files() == []


def test_cfn_lint_finds_nothing_in_the_template() -> None:
    regions = ["us-east-1", "eu-central-1", "ap-southeast-2"]

    matches = lint_file(ROOT / TEMPLATE_FILE, ManualArgs(regions=regions))

    assert [str(m) for m in matches] == []


def test_the_template_fits_in_a_create_stack_call() -> None:
    assert len((ROOT / TEMPLATE_FILE).read_bytes()) < TEMPLATE_BODY_LIMIT


def test_nothing_account_or_region_specific_is_committed() -> None:
    committed = [ROOT / TEMPLATE_FILE, *sorted((ROOT / ".chalice").glob("policy-*"))]
    region = re.compile(r"\b(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d\b")

    for path in committed:
        text = path.read_text()
        assert not re.search(r"\b\d{12}\b", text), path
        assert not region.search(text), path


def test_the_table_has_the_keys_and_indexes_the_local_table_has(template: Json) -> None:
    local = table_definition("any")

    table = template["Resources"][TABLE]["Properties"]

    for key in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes"):
        assert table[key] == local[key]
    assert table["BillingMode"] == "PAY_PER_REQUEST"


def test_the_table_recovers_to_any_point_and_expires_old_changes(
    template: Json,
) -> None:
    table = template["Resources"][TABLE]["Properties"]

    assert table["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True
    }
    assert table["TimeToLiveSpecification"] == {
        "AttributeName": TTL_ATTRIBUTE,
        "Enabled": True,
    }


@pytest.mark.parametrize("logical_id", [BUCKET, TABLE, USER_POOL])
def test_data_survives_a_replacement_and_the_stacks_deletion_but_not_a_failed_create(
    template: Json, logical_id: str
) -> None:
    resource = template["Resources"][logical_id]

    assert resource["DeletionPolicy"] == "RetainExceptOnCreate"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_nothing_but_the_stages_data_outlives_the_stack(template: Json) -> None:
    kept = {
        logical_id
        for logical_id, resource in template["Resources"].items()
        if "DeletionPolicy" in resource or "UpdateReplacePolicy" in resource
    }

    assert kept == {BUCKET, TABLE, USER_POOL}


def test_every_subscription_has_a_consumer_and_every_consumer_a_subscription() -> None:
    assert {c.subscription for c in CONSUMERS} == set(SUBSCRIPTIONS)


@pytest.mark.parametrize("consumer", CONSUMERS, ids=lambda c: c.subscription)
def test_a_consumer_gets_one_rule_per_version_it_reads_with_the_catalogues_pattern(
    template: Json, consumer: Any
) -> None:
    patterns = SUBSCRIPTIONS[consumer.subscription].event_patterns()

    rules = [
        rule["Properties"]
        for rule in _resources_of_type(template, "AWS::Events::Rule").values()
        if rule["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0]
        == queue_id(consumer)
    ]

    assert sorted(json.dumps(r["EventPattern"]) for r in rules) == sorted(
        json.dumps(p) for p in patterns.values()
    )
    assert all(r["EventBusName"] == {"Fn::GetAtt": ["EventBus", "Name"]} for r in rules)


def test_rule_names_are_the_local_stacks_rule_names(template: Json) -> None:
    local = {r.name for r in resources.subscription_rules(placeholder_names())}

    deployed = {
        _subbed(rule["Properties"]["Name"])
        for rule in _resources_of_type(template, "AWS::Events::Rule").values()
    }

    assert deployed == local


@pytest.mark.parametrize("consumer", CONSUMERS, ids=lambda c: c.subscription)
def test_only_a_consumers_own_rules_may_send_to_its_queue(
    template: Json, consumer: Any
) -> None:
    queue = queue_id(consumer)
    own_rules = {
        logical_id
        for logical_id, rule in _resources_of_type(
            template, "AWS::Events::Rule"
        ).items()
        if rule["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0] == queue
    }

    policy = template["Resources"][f"{queue}Policy"]["Properties"]

    (statement,) = policy["PolicyDocument"]["Statement"]
    assert policy["Queues"] == [{"Ref": queue}]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    sources = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert {s["Fn::GetAtt"][0] for s in sources} == own_rules


@pytest.mark.parametrize("consumer", CONSUMERS, ids=lambda c: c.subscription)
def test_a_consumer_queue_keeps_the_local_settings_and_parks_failures_in_its_dlq(
    template: Json, consumer: Any
) -> None:
    local = resources.consumer_queue("any")
    assert local.dead_letter is not None

    queue = template["Resources"][queue_id(consumer)]["Properties"]
    dead_letter = template["Resources"][dead_letter_id(consumer)]["Properties"]

    assert queue["MessageRetentionPeriod"] == local.retention
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dead_letter_id(consumer), "Arn"]},
        "maxReceiveCount": resources.CONSUMER_MAX_RECEIVE_COUNT,
    }
    assert queue["VisibilityTimeout"] == {"Ref": visibility_parameter(consumer)}
    assert dead_letter["MessageRetentionPeriod"] == local.dead_letter.retention


def test_a_visibility_timeout_can_never_be_below_the_factor(template: Json) -> None:
    for consumer in CONSUMERS:
        parameter = template["Parameters"][visibility_parameter(consumer)]

        assert parameter["MinValue"] == resources.VISIBILITY_TIMEOUT_FACTOR
        assert "Default" not in parameter


def test_every_queue_of_failures_has_an_alarm_at_its_first_message(
    template: Json,
) -> None:
    failure_queues = {dead_letter_id(c) for c in CONSUMERS} | {
        failures_queue_id(h) for h in ASYNC_HANDLERS
    }

    alarms = _resources_of_type(template, "AWS::CloudWatch::Alarm").values()

    watched = set()
    for alarm in alarms:
        properties = alarm["Properties"]
        if properties["Namespace"] != "AWS/SQS":
            continue
        assert properties["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert properties["Threshold"] == 0
        assert properties["ComparisonOperator"] == "GreaterThanThreshold"
        (dimension,) = properties["Dimensions"]
        watched.add(dimension["Value"]["Fn::GetAtt"][0])
    assert watched == failure_queues


def test_every_function_has_an_alarm_at_its_first_error(template: Json) -> None:
    names = placeholder_names()
    alarms = _resources_of_type(template, "AWS::CloudWatch::Alarm").values()

    watched = {
        _subbed(dimension["Value"])
        for alarm in alarms
        if alarm["Properties"]["Namespace"] == "AWS/Lambda"
        and alarm["Properties"]["MetricName"] == "Errors"
        and alarm["Properties"]["Statistic"] == "Sum"
        and alarm["Properties"]["Threshold"] == 0
        for dimension in alarm["Properties"]["Dimensions"]
        if dimension["Name"] == "FunctionName"
    }

    assert watched == {function_name(names, f) for f in FUNCTIONS}


def test_an_alarm_tells_the_topic_when_one_is_given(template: Json) -> None:
    alarms = _resources_of_type(template, "AWS::CloudWatch::Alarm").values()

    actions = [alarm["Properties"]["AlarmActions"] for alarm in alarms]

    assert all(
        a
        == {
            "Fn::If": [
                "HasAlarmTopic",
                [{"Ref": "AlarmTopicArn"}],
                {"Ref": "AWS::NoValue"},
            ]
        }
        for a in actions
    )


@pytest.mark.parametrize("handler", ASYNC_HANDLERS, ids=lambda h: h.handler)
def test_an_async_handlers_failures_queue_has_the_local_stacks_name_for_it(
    template: Json, handler: AsyncHandler
) -> None:
    local = stack_names("filemanager", "local", "1", "us-east-1")
    expected = {
        S3_HANDLER: local.s3_failures_queue,
        OBJECT_DELETED_HANDLER: local.cw_failures_queue(OBJECT_DELETED_HANDLER),
        SWEEPER: local.cw_failures_queue(SWEEPER),
    }[handler.handler]

    queue = template["Resources"][failures_queue_id(handler)]["Properties"]

    assert handler.failures_queue(local) == expected
    assert _subbed(queue["QueueName"]) == handler.failures_queue(placeholder_names())
    assert queue["MessageRetentionPeriod"] == resources.DEAD_LETTER_RETENTION
    assert 0 <= handler.retries <= 2


def test_the_bucket_is_private_encrypted_and_tells_eventbridge(template: Json) -> None:
    bucket = template["Resources"][BUCKET]["Properties"]

    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert bucket["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }


def test_the_deploys_state_bucket_is_private_versioned_and_goes_with_the_stack(
    template: Json,
) -> None:
    resource = template["Resources"][STATE_BUCKET]
    properties = resource["Properties"]

    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = properties["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0
    assert "DeletionPolicy" not in resource
    assert template["Outputs"][STATE_BUCKET_OUTPUT]["Value"] == {"Ref": STATE_BUCKET}


def test_the_bucket_refuses_every_request_without_tls(template: Json) -> None:
    policy = template["Resources"][f"{BUCKET}Policy"]["Properties"]

    (statement,) = policy["PolicyDocument"]["Statement"]

    assert policy["Bucket"] == {"Ref": BUCKET}
    assert (statement["Effect"], statement["Principal"], statement["Action"]) == (
        "Deny",
        "*",
        "s3:*",
    )
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(statement["Resource"]) == 2  # the bucket and every object in it


def test_the_bucket_cors_rules_are_the_local_ones_with_origins_left_to_a_parameter(
    template: Json,
) -> None:
    (local,) = resources.BUCKET_CORS_RULES

    (rule,) = template["Resources"][BUCKET]["Properties"]["CorsConfiguration"][
        "CorsRules"
    ]

    assert rule["AllowedOrigins"] == {"Ref": "AllowedOrigins"}
    assert rule["AllowedMethods"] == local["AllowedMethods"]
    assert rule["AllowedHeaders"] == local["AllowedHeaders"]
    assert rule["ExposedHeaders"] == local["ExposeHeaders"]


def test_the_user_pool_and_client_take_the_local_stacks_arguments(
    template: Json,
) -> None:
    pool = template["Resources"][USER_POOL]["Properties"]
    client = template["Resources"][USER_POOL_CLIENT]["Properties"]

    for key, value in resources.USER_POOL_ARGS.items():
        if key != "AdminCreateUserConfig":  # the stage's to decide, below
            assert pool[key] == value
    for key, value in resources.APP_CLIENT_ARGS.items():
        assert client[key] == value
    assert client["GenerateSecret"] is False
    assert client["UserPoolId"] == {"Ref": USER_POOL}


def test_only_an_administrator_creates_users_unless_the_stage_opens_sign_up(
    template: Json,
) -> None:
    pool = template["Resources"][USER_POOL]["Properties"]
    (condition,) = template["Conditions"][SELF_SIGN_UP]["Fn::Equals"][1:]

    only_admin = pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"]

    assert only_admin == {"Fn::If": [SELF_SIGN_UP, False, True]}
    assert condition == "true"
    assert template["Parameters"]["SelfSignUp"]["Default"] == "false"
    local = resources.USER_POOL_ARGS["AdminCreateUserConfig"]
    assert local == {"AllowAdminCreateUserOnly": True}


def test_sign_in_never_tells_whether_a_user_exists_and_tokens_expire_as_said(
    template: Json,
) -> None:
    client = template["Resources"][USER_POOL_CLIENT]["Properties"]
    policy = template["Resources"][USER_POOL]["Properties"]["Policies"]

    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["EnableTokenRevocation"] is True
    assert (client["IdTokenValidity"], client["AccessTokenValidity"]) == (60, 60)
    assert client["RefreshTokenValidity"] == 30
    assert client["TokenValidityUnits"] == {
        "AccessToken": "minutes",
        "IdToken": "minutes",
        "RefreshToken": "days",
    }
    assert policy["PasswordPolicy"]["MinimumLength"] >= 12


def test_the_demo_user_meets_the_password_policy() -> None:
    policy = resources.USER_POOL_ARGS["Policies"]["PasswordPolicy"]
    password = resources.DEMO_USER.password

    assert len(password) >= policy["MinimumLength"]
    assert re.search("[A-Z]", password)
    assert re.search("[a-z]", password)
    assert re.search("[0-9]", password)
    assert re.search(r"[^A-Za-z0-9]", password)


def test_the_cursor_secret_is_generated_by_aws_not_written_down(
    template: Json,
) -> None:
    (secret,) = _resources_of_type(template, "AWS::SecretsManager::Secret").values()

    assert "SecretString" not in secret["Properties"]
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32


def test_the_outputs_give_every_setting_the_app_needs_from_the_stack(
    template: Json,
) -> None:
    settings = (ROOT / "chalicelib" / "settings.py").read_text()
    required = set(re.findall(r'_required\("([A-Z_]+)"\)', settings))
    # The authorizer reads the pool's ARN at import; the secret is read apart.
    needed = (required | {"COGNITO_USER_POOL_ARN"}) - {"CURSOR_SECRET"}

    assert set(output_variables().values()) == needed
    assert set(output_variables()) <= set(template["Outputs"])
    assert "CursorSecretArn" in template["Outputs"]


def test_names_follow_the_local_stages_rule(tmp_path: Path) -> None:
    local = load_stage(ROOT, "local")
    names = stack_names(local.app_name, "local", "123456789012", "us-east-1")

    assert names.table == local.env["FILES_TABLE"]
    assert names.event_bus == local.env["EVENT_BUS_NAME"]
    assert names.delete_queue == local.env["DELETE_QUEUE_NAME"]
    assert names.change_feed_queue == local.env["CHANGE_FEED_QUEUE_NAME"]
    assert names.user_pool == local.env["COGNITO_USER_POOL_NAME"]
    # Bucket names are global: a deployed one also carries account and region.
    assert names.bucket.startswith(local.env["FILES_BUCKET"])


def test_every_name_in_the_template_carries_the_stage(template: Json) -> None:
    names = [
        _subbed(properties[key])
        for resource in template["Resources"].values()
        for properties in [resource.get("Properties", {})]
        for key in ("BucketName", "TableName", "QueueName", "Name", "UserPoolName")
        if key in properties
    ]

    assert names
    assert all("${Stage}" in name for name in names), names


@pytest.mark.parametrize(
    ("stage", "fits"),
    [
        ("dev", True),
        ("prod", True),
        ("feature-42", True),
        ("Prod", False),
        ("a.b", False),
    ],
)
def test_a_stage_name_must_fit_in_a_bucket_name(
    template: Json, stage: str, fits: bool
) -> None:
    pattern = template["Parameters"]["Stage"]["AllowedPattern"]
    buckets = (placeholder_names().bucket, placeholder_state_bucket())
    longest = [fill(b, "s" * 16, "1" * 12, "ap-southeast-2") for b in buckets]

    assert bool(re.fullmatch(pattern, stage)) is fits
    assert max(len(name) for name in longest) <= 63
