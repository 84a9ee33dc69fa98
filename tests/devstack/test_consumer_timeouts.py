"""Case 13: a consumer's queue hides a message for at least six times its
function's Lambda timeout, on every stage, or a batch still running would be
handed out again while Lambda's poller retries."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack import resources
from devstack.config import load_stage, read_config
from infra.stages import CONSUMERS, Consumer, visibility_timeout

ROOT = Path(__file__).resolve().parents[2]
STAGES = sorted(read_config(ROOT)["stages"])


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("consumer", CONSUMERS, ids=lambda c: c.subscription)
def test_each_consumer_queue_hides_messages_six_times_its_timeout(
    stage: str, consumer: Consumer
) -> None:
    config = load_stage(ROOT, stage)
    timeout = config.lambda_timeout(consumer.handler)
    local = load_stage(ROOT)
    names = resources.StackNames.from_env(local.app_name, local.stage, local.env)
    queues = {q.name: q for q in resources.stack_spec(names).queues}

    local_queue = queues[names.consumer_queues[consumer.subscription]]

    assert local_queue.visibility_timeout >= 6 * timeout
    assert visibility_timeout(config, consumer) >= 6 * timeout
