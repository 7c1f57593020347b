"""The worker beats for every activity with a heartbeat timeout (``activities/heartbeats.py``):
an attempt longer than that timeout goes on while its worker lives, on a real dev server."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    UnsandboxedWorkflowRunner,
    Worker,
)

from activities.heartbeats import AutoHeartbeat, beats_itself


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


class _Run(ActivityInboundInterceptor):
    """The end of the chain: runs the activity function itself."""

    def __init__(self) -> None:
        pass

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        return await input.fn(*input.args)


async def _beats_while(fn: Any) -> list[tuple[Any, ...]]:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, heartbeat_timeout=timedelta(seconds=0.2))
    beats: list[tuple[Any, ...]] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    chain = AutoHeartbeat().intercept_activity(_Run())
    await env.run(chain.execute_activity,
                  ExecuteActivityInput(fn=fn, args=[], executor=None, headers={}))
    return beats


async def test_an_activity_that_beats_itself_keeps_its_details() -> None:
    @beats_itself
    async def page() -> None:
        activity.heartbeat("page 1")
        await asyncio.sleep(0.5)

    async def request() -> None:
        await asyncio.sleep(0.5)

    assert await _beats_while(page) == [("page 1",)]  # no empty beat over what it said
    assert len(await _beats_while(request)) >= 2  # beaten for by the worker
