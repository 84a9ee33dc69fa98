"""Each function's log group, made by the deploy with the stage's retention.

Lambda makes a function's log group at its first run, and keeps its logs
forever. The deploy makes the groups first, before `chalice deploy` makes
the functions, and sets their retention at every deploy, so a stage made
before this step had its groups too gets theirs. They are not in the
CloudFormation stack for that reason: a stack cannot take over a group
Lambda already made, its update would fail on the name.
"""

from __future__ import annotations

import logging
from typing import Any

from devstack.resources import StackNames
from infra.stages import FUNCTIONS, log_group

log = logging.getLogger("infra.deploy")


def keep_logs(logs: Any, names: StackNames, days: int) -> None:
    """Every function's log group exists and keeps its logs `days` days."""
    for function in FUNCTIONS:
        group = log_group(names, function)
        try:
            logs.create_log_group(logGroupName=group)
        except logs.exceptions.ResourceAlreadyExistsException:
            log.debug("log group %s exists", group)
        logs.put_retention_policy(logGroupName=group, retentionInDays=days)


def delete_logs(logs: Any, names: StackNames) -> None:
    """Every function's log group is gone."""
    for function in FUNCTIONS:
        try:
            logs.delete_log_group(logGroupName=log_group(names, function))
        except logs.exceptions.ResourceNotFoundException:
            log.debug("no log group for %s", function)
