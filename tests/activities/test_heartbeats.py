"""The worker beats for every activity with a heartbeat timeout (``activities/heartbeats.py``):
an attempt longer than that timeout goes on while its worker lives, on a real dev server."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.heartbeats import AutoHeartbeat


@activity.defn
async def slow_request() -> str:
    await asyncio.sleep(3)  # a request that outlasts the heartbeat timeout, beating nothing itself
    return "answered"


@workflow.defn
class OneSlowRequest:
    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_activity(
            slow_request, start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=timedelta(seconds=1), retry_policy=RetryPolicy(maximum_attempts=1))


async def _run(env: WorkflowEnvironment, interceptors: list[AutoHeartbeat]) -> str:
    queue = f"tq-heartbeats-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=queue, workflows=[OneSlowRequest],
                      activities=[slow_request], interceptors=interceptors,
                      workflow_runner=UnsandboxedWorkflowRunner()):
        return await env.client.execute_workflow(OneSlowRequest.run, id=queue, task_queue=queue)


async def test_a_long_attempt_lives_on_the_workers_beats(dev_env: WorkflowEnvironment) -> None:
    assert await _run(dev_env, [AutoHeartbeat()]) == "answered"


async def test_without_the_beats_the_same_attempt_would_be_taken_for_a_dead_worker(
        dev_env: WorkflowEnvironment) -> None:
    with pytest.raises(WorkflowFailureError) as failed:
        await _run(dev_env, [])
    assert "heartbeat" in str(failed.value.cause).lower() or "timed out" in str(
        failed.value.cause).lower()
