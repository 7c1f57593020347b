"""A worker or the API started while Temporal is down waits for it instead of exiting."""

from __future__ import annotations

import asyncio
import logging
from functools import partial

import pytest
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from api import temporal
from api.cli.binaries import temporal_cli
from api.cli.ports import free_port
from core.settings import TemporalSettings


async def test_a_service_process_waits_for_a_temporal_server_that_comes_up_later(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(temporal, "CONNECT_FIRST_WAIT", 0.05)
    monkeypatch.setattr(temporal, "CONNECT_MAX_WAIT", 0.2)
    monkeypatch.setattr(temporal, "CONNECT_ALERT_AFTER", 0.3)
    port = free_port()
    settings = TemporalSettings(address=f"127.0.0.1:{port}", namespace="default")
    caplog.set_level(logging.WARNING, logger=temporal.__name__)
    connecting = asyncio.create_task(temporal.connect_waiting(settings))
    while not any("not reachable" in r.getMessage() for r in caplog.records):
        assert not connecting.done(), "connect_waiting gave up or connected to nothing"
        await asyncio.sleep(0.05)
    warning = next(r.getMessage() for r in caplog.records if "not reachable" in r.getMessage())
    assert f"127.0.0.1:{port}" in warning and "attempt 1" in warning
    # Unreachable for long: an error, what log alerting watches.
    while not any(r.levelno == logging.ERROR for r in caplog.records):
        assert not connecting.done()
        await asyncio.sleep(0.05)

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()), port=port, dev_server_log_level="error")
    try:
        client = await asyncio.wait_for(connecting, 30)
        assert (await client.workflow_service.get_system_info(
            GetSystemInfoRequest())).server_version
    finally:
        await env.shutdown()


async def test_a_server_gone_after_the_connection_is_waited_for_and_other_errors_are_not(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker's calls before it polls (its key check, the intake's start) wait out a server
    that went away once connected: the dev server restarting there made a worker exit."""
    monkeypatch.setattr(temporal, "CONNECT_FIRST_WAIT", 0.05)
    monkeypatch.setattr(temporal, "CONNECT_MAX_WAIT", 0.2)
    port = free_port()
    settings = TemporalSettings(address=f"127.0.0.1:{port}", namespace="default")
    caplog.set_level(logging.WARNING, logger=temporal.__name__)
    start = partial(WorkflowEnvironment.start_local, dev_server_existing_path=str(temporal_cli()),
                    port=port, dev_server_log_level="error")
    env = await start()
    client = await temporal.connect(settings)
    await env.shutdown()
    counting = asyncio.create_task(temporal.reachable(settings, client.count_workflows))
    try:
        while not any("not reachable" in r.getMessage() for r in caplog.records):
            assert not counting.done(), "reachable gave up while the server was away"
            await asyncio.sleep(0.05)
        env = await start()
        assert (await asyncio.wait_for(counting, 30)).count == 0
        with pytest.raises(RPCError) as refused:  # a refusal is not an outage: raised at once
            await temporal.reachable(settings, partial(client.count_workflows, "Nonsense ="))
        assert refused.value.status is RPCStatusCode.INVALID_ARGUMENT
    finally:
        counting.cancel()
        await env.shutdown()
