"""Provisioning: idempotent, faithful to resources.py, loud about Cognito ids."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest

from chalicelib.messages import CATALOGUE
from devstack import auth, resources
from devstack.provision import (
    CognitoIds,
    ProvisionedStack,
    ProvisioningError,
    Target,
    provision,
)
from tests.builders import message_of
from tests.devstack.conftest import wait_for


def test_provisioning_twice_changes_nothing(
    target: Target, names: resources.StackNames
) -> None:
    spec = resources.stack_spec(names)
    first = provision(target, spec)
    second = provision(target, spec)

    assert first == second
    cognito = target.client("cognito-idp")
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    assert [p["Name"] for p in pools] == [names.user_pool]
    clients = cognito.list_user_pool_clients(
        UserPoolId=first.user_pool_id, MaxResults=60
    )["UserPoolClients"]
    assert [c["ClientName"] for c in clients] == [names.app_client]
    rules = target.client("events").list_rules(EventBusName=names.event_bus)["Rules"]
    # The archive brings a rule of its own, made by EventBridge.
    ours = [r for r in rules if not r["Name"].startswith("Events-Archive-")]
    assert len(ours) == len(resources.bus_rules(names))


def test_delete_queue_has_its_dlq_and_settings(
    target: Target, stack: ProvisionedStack
) -> None:
    sqs = target.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=stack.delete_queue_url, AttributeNames=["All"]
    )["Attributes"]
    dlq_arn = sqs.get_queue_attributes(
        QueueUrl=stack.delete_dlq_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]

    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq_arn
    assert int(redrive["maxReceiveCount"]) == resources.CONSUMER_MAX_RECEIVE_COUNT
    assert stack.delete_dlq == f"{stack.delete_queue}-dlq"
    assert attributes["VisibilityTimeout"] == str(resources.CONSUMER_VISIBILITY_TIMEOUT)


def test_a_queue_left_with_other_settings_is_corrected(
    target: Target, names: resources.StackNames
) -> None:
    sqs = target.client("sqs")
    sqs.create_queue(
        QueueName=names.bus_tap_queue, Attributes={"VisibilityTimeout": "7"}
    )

    stack = provision(target, resources.stack_spec(names))

    attributes = sqs.get_queue_attributes(
        QueueUrl=stack.bus_tap_queue_url, AttributeNames=["VisibilityTimeout"]
    )["Attributes"]
    assert attributes["VisibilityTimeout"] == str(resources.TAP_VISIBILITY_TIMEOUT)


def test_bus_rules_route_each_consumer_its_versions_and_tap_everything(
    target: Target, stack: ProvisionedStack
) -> None:
    events = target.client("events")
    messages = [message_of(model) for model in CATALOGUE.values()]
    sent = events.put_events(
        Entries=[
            _entry(stack, m.metadata.type, m.model_dump(mode="json")) for m in messages
        ]
    )
    assert sent["FailedEntryCount"] == 0

    sqs = target.client("sqs")
    tapped = _drain(sqs, stack.bus_tap_queue_url, expected=len(messages))
    commands = _drain(sqs, stack.delete_queue_url, expected=1)
    changes = _drain(sqs, stack.change_feed_queue_url, expected=6)
    assert sorted(_type_version(e) for e in tapped) == sorted(CATALOGUE)
    assert [e["detail"] for e in commands] == [
        m.model_dump(mode="json") for m in messages if m.metadata.type == "DeleteFile"
    ]
    assert sorted(_type_version(e) for e in changes) == [
        ("FileCreated", 2),
        ("FileDeleted", 2),
        ("FileRejected", 1),
        ("FileRenamed", 1),
        ("FileRestored", 1),
        ("FileTrashed", 1),
    ]
    for url in (stack.delete_queue_url, stack.change_feed_queue_url):
        assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)


def _type_version(event: dict[str, Any]) -> tuple[str, int]:
    return event["detail-type"], event["detail"]["metadata"]["version"]


def test_bucket_has_cors_and_notifications(
    target: Target, stack: ProvisionedStack
) -> None:
    s3 = target.client("s3")
    cors = s3.get_bucket_cors(Bucket=stack.bucket)["CORSRules"]
    notifications = s3.get_bucket_notification_configuration(Bucket=stack.bucket)

    assert cors[0]["AllowedMethods"] == ["GET", "POST", "PUT", "HEAD"]
    assert cors[0]["ExposeHeaders"] == ["ETag"]
    (queue_config,) = notifications["QueueConfigurations"]
    assert queue_config["QueueArn"].endswith(f":{stack.s3_events_queue}")
    assert sorted(queue_config["Events"]) == sorted(
        resources.BUCKET_NOTIFICATION_EVENTS
    )


def test_cognito_ids_other_than_the_config_fail_loudly(
    target: Target, names: resources.StackNames
) -> None:
    wrong = CognitoIds(user_pool_id="us-east-1_wrong", user_pool_client_id="wrong")

    with pytest.raises(ProvisioningError, match="sync-config"):
        provision(target, resources.stack_spec(names), expected=wrong)


def test_demo_user_signs_in_with_the_documented_password(
    stack: ProvisionedStack,
) -> None:
    token = auth.id_token(stack.to_dict())

    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == stack.user_pool_client_id
    assert claims["token_use"] == "id"
    assert claims["cognito:username"] == resources.DEMO_USER.username


def test_another_user_can_be_added(stack: ProvisionedStack) -> None:
    state = stack.to_dict()
    auth.add_user(state, "second", "Second-password-2")
    auth.add_user(state, "second", "Second-password-2")

    token = auth.id_token(state, "second", "Second-password-2")

    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["cognito:username"] == "second"


def _entry(stack: ProvisionedStack, detail_type: str, detail: Any) -> dict[str, Any]:
    return {
        "EventBusName": stack.event_bus,
        "Source": "filemanager",
        "DetailType": detail_type,
        "Detail": json.dumps(detail),
    }


def _drain(sqs: Any, url: str, expected: int) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []

    def received_all() -> bool:
        response = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        bodies.extend(json.loads(m["Body"]) for m in response.get("Messages", []))
        return len(bodies) >= expected

    wait_for(received_all, what=f"{expected} messages on {url}")
    return bodies
