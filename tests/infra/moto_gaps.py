"""What moto's CloudFormation skips, filled in for the deploy rehearsal only.

moto 5.2 has no CloudFormation model for Cognito user pools and clients,
Secrets Manager secrets, queue and bucket policies or CloudWatch alarms: it
skips them, and refuses a stack whose outputs read an attribute of one. The
models below create each through moto's own backend, with the properties
the template gives, as CloudFormation would through the service's API. So
the rehearsal deploys the real template, and the deploy script reads real
outputs and a real secret. Its bucket model reads only encryption and tags;
`_bucket_settings` below also gives a new bucket its CORS rules and
versioning.

moto also honours only `Retain` among the deletion policies (it added that
one alone, getmoto/moto#6115): a resource marked `RetainExceptOnCreate`, as
the stage's data is, would be deleted with its stack. `_retain_except_on_create`
below makes a stack deletion keep it, as CloudFormation does once the stack
has been created (every stack the rehearsal deletes was).

They are loaded only by the rehearsal's own moto server
(`python -m tests.infra.rehearsal_server`), never by the local stack.
"""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Callable
from typing import Any

from moto.cloudformation import parsing
from moto.cloudwatch.models import cloudwatch_backends
from moto.cognitoidp.models import cognitoidp_backends
from moto.core.common_models import CloudFormationModel
from moto.s3.models import FakeBucket, s3_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.sqs.models import sqs_backends

Json = dict[str, Any]


class _Filled:
    """A resource made through a backend; Ref gives `physical_id`.

    Each model names CloudFormationModel among its own bases: moto finds
    models by that class's direct subclasses.
    """

    def __init__(self, physical_id: str, account_id: str, region: str, **facts: Any):
        self.physical_id = physical_id
        self.account_id = account_id
        self.region = region
        self.facts = facts

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
    ) -> Any:
        # The rehearsal deploys one template twice; nothing of these changes.
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        """Most of these go with what they are attached to."""


class UserPool(_Filled, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Cognito::UserPool"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "UserPoolName"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in {"Arn", "ProviderName", "ProviderURL", "UserPoolId"}

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> UserPool:
        properties = dict(cloudformation_json["Properties"])
        properties.pop("UserPoolName", None)
        backend = cognitoidp_backends[account_id][region_name]
        pool = backend.create_user_pool(resource_name, properties)
        return cls(pool.id, account_id, region_name, arn=pool.arn)

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "Arn":
            return str(self.facts["arn"])
        return self.physical_id


class UserPoolClient(_Filled, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Cognito::UserPoolClient"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> UserPoolClient:
        properties = dict(cloudformation_json["Properties"])
        pool_id = properties.pop("UserPoolId")
        generate_secret = bool(properties.pop("GenerateSecret", False))
        backend = cognitoidp_backends[account_id][region_name]
        client = backend.create_user_pool_client(pool_id, generate_secret, properties)
        return cls(client.id, account_id, region_name, pool_id=pool_id)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = cognitoidp_backends[account_id][region_name]
        backend.delete_user_pool_client(self.facts["pool_id"], self.physical_id)


class Secret(_Filled, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::Secret"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Secret:
        properties = cloudformation_json["Properties"]
        generated = properties.get("GenerateSecretString", {})
        created = secretsmanager_backends[account_id][region_name].create_secret(
            name=resource_name,
            secret_string=secrets.token_hex(generated.get("PasswordLength", 32) // 2),
            secret_binary=None,
            description=properties.get("Description"),
            tags=None,
            kms_key_id=None,
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        # Ref of a secret is its ARN.
        return cls(json.loads(created)["ARN"], account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        secretsmanager_backends[account_id][region_name].delete_secret(
            self.physical_id, None, force_delete_without_recovery=True
        )


class QueuePolicy(_Filled, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SQS::QueuePolicy"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> QueuePolicy:
        properties = cloudformation_json["Properties"]
        policy = json.dumps(properties["PolicyDocument"])
        backend = sqs_backends[account_id][region_name]
        for url in properties["Queues"]:
            backend.set_queue_attributes(url.rsplit("/", 1)[-1], {"Policy": policy})
        return cls(resource_name, account_id, region_name)


class BucketPolicy(_Filled, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> BucketPolicy:
        properties = cloudformation_json["Properties"]
        policy = json.dumps(properties["PolicyDocument"]).encode()
        s3_backends[account_id]["aws"].put_bucket_policy(properties["Bucket"], policy)
        return cls(resource_name, account_id, region_name)


class Alarm(_Filled, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Alarm:
        p = cloudformation_json["Properties"]
        cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=resource_name,
            namespace=p["Namespace"],
            metric_name=p["MetricName"],
            comparison_operator=p["ComparisonOperator"],
            evaluation_periods=int(p["EvaluationPeriods"]),
            period=int(p["Period"]),
            threshold=float(p["Threshold"]),
            statistic=p["Statistic"],
            description=p.get("AlarmDescription", ""),
            dimensions=p["Dimensions"],
            alarm_actions=p.get("AlarmActions") or [],
            treat_missing_data=p.get("TreatMissingData"),
        )
        return cls(resource_name, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([self.physical_id])


# S3's CORS rules as CloudFormation spells them, and as moto's backend does.
_CORS_KEYS = {
    "Id": "ID",
    "AllowedHeaders": "AllowedHeader",
    "AllowedMethods": "AllowedMethod",
    "AllowedOrigins": "AllowedOrigin",
    "ExposedHeaders": "ExposeHeader",
}


def _bucket_settings(create: Callable[..., FakeBucket]) -> Any:
    """moto's bucket model, also applying CORS rules and versioning."""

    @functools.wraps(create)
    def creating(
        cls: type[FakeBucket],
        resource_name: str,
        cloudformation_json: Json,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> FakeBucket:
        bucket = create(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        properties = cloudformation_json.get("Properties", {})
        rules = properties.get("CorsConfiguration", {}).get("CorsRules", [])
        if rules:
            bucket.set_cors([_api_cors_rule(rule) for rule in rules])
        if "VersioningConfiguration" in properties:
            bucket.versioning_status = properties["VersioningConfiguration"]["Status"]
        return bucket

    return classmethod(creating)


def _api_cors_rule(rule: Json) -> Json:
    converted = {_CORS_KEYS[k]: v for k, v in rule.items() if k in _CORS_KEYS}
    if "MaxAge" in rule:
        converted["MaxAgeSeconds"] = str(rule["MaxAge"])
    return converted


FakeBucket.create_from_cloudformation_json = _bucket_settings(  # type: ignore[method-assign]
    FakeBucket.create_from_cloudformation_json
)


def _retain_except_on_create(
    delete: Callable[[parsing.ResourceMap], None],
) -> Callable[[parsing.ResourceMap], None]:
    """A stack deletion that keeps `RetainExceptOnCreate` resources too.

    LIMITATION: moto 5.2 deletes a `RetainExceptOnCreate` resource with its
    stack; closing it needs moto to read that policy (its
    `ResourceMap.delete` compares the policy with `Retain` only).
    """

    @functools.wraps(delete)
    def keeping(resource_map: parsing.ResourceMap) -> None:
        for resource in resource_map._resource_json_map.values():
            if resource.get("DeletionPolicy") == "RetainExceptOnCreate":
                resource["DeletionPolicy"] = "Retain"
        delete(resource_map)

    return keeping


parsing.ResourceMap.delete = _retain_except_on_create(  # type: ignore[method-assign]
    parsing.ResourceMap.delete
)

# moto lists its models once; list them again with these.
for cached in (
    parsing.get_model_list,
    parsing.get_model_map,
    parsing.get_name_type_map,
):
    cached.cache_clear()
