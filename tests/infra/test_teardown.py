"""The teardown command, run against a deployed stand-in: nothing is left.

No object is put in the bucket here: the bucket would tell the S3 handler,
and moto would try to run it through Docker. `test_deploy.py` empties a
bucket with objects, versions and delete markers on moto's in-process AWS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.deploy import Options, deploy, destroy
from infra.stages import load_deployed_stage, stack_name, stack_names
from tests.infra.conftest import (
    REGION,
    rehearsal_options,
    rehearsal_server,
    stand_in_credentials,
)
from tests.infra.iam import MOTO_ACCOUNT

STAGE = "dev"


def _leftovers(options: Options) -> dict[str, Any]:
    """What of the stage is still there, by kind; kinds with nothing left out."""
    target = options.target
    app = load_deployed_stage(STAGE).app_name
    stacks = target.client("cloudformation").list_stacks()["StackSummaries"]
    found = {
        "functions": target.client("lambda").list_functions()["Functions"],
        "mappings": target.client("lambda").list_event_source_mappings()[
            "EventSourceMappings"
        ],
        "roles": target.client("iam").list_roles()["Roles"],
        "live stacks": [
            s
            for s in stacks
            if s["StackName"] == stack_name(app, STAGE)
            and s["StackStatus"] != "DELETE_COMPLETE"
        ],
        "buckets": target.client("s3").list_buckets()["Buckets"],
        "tables": target.client("dynamodb").list_tables()["TableNames"],
        "queues": target.client("sqs").list_queues().get("QueueUrls", []),
        "user pools": target.client("cognito-idp").list_user_pools(MaxResults=60)[
            "UserPools"
        ],
        "secrets": target.client("secretsmanager").list_secrets()["SecretList"],
        "log groups": target.client("logs").describe_log_groups()["logGroups"],
        "alarms": target.client("cloudwatch").describe_alarms()["MetricAlarms"],
        "default-bus rules": target.client("events").list_rules()["Rules"],
    }
    return {kind: items for kind, items in found.items() if items}


def test_destroy_from_another_clone_removes_the_functions_the_stack_and_the_data(
    tmp_path: Path,
) -> None:
    with stand_in_credentials(), rehearsal_server(tmp_path) as endpoint:
        deploy(rehearsal_options(endpoint, tmp_path / "deploying-clone", STAGE))
        # A clone that never deployed: it has nothing but the stack to go by.
        options = rehearsal_options(endpoint, tmp_path / "fresh-clone", STAGE)

        destroy(options, keep_data=False, delete_data=False)

        leftovers = _leftovers(options)
    assert leftovers == {}


def test_destroy_can_keep_the_bucket_the_table_and_the_user_pool(
    tmp_path: Path,
) -> None:
    with stand_in_credentials(), rehearsal_server(tmp_path) as endpoint:
        options = rehearsal_options(endpoint, tmp_path, STAGE)
        deploy(options)

        destroy(options, keep_data=True, delete_data=False)

        leftovers = _leftovers(options)
    names = stack_names(
        load_deployed_stage(STAGE).app_name, STAGE, MOTO_ACCOUNT, REGION
    )
    assert set(leftovers) == {"buckets", "tables", "user pools"}
    assert [b["Name"] for b in leftovers["buckets"]] == [names.bucket]
