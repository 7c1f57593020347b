"""``ptce temporal setup`` on a real Temporal server: the service's own namespace, created with
the configured retention (years by default), the retention updated when the setting changes,
the search attributes registered in it; the worker, the API and ``ptce dev`` use that
namespace."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner, Result

from api.cli.dev import plan
from api.cli.main import app
from api.temporal import connect
from core.settings import Settings, TemporalSettings, get_settings
from workflows import search_attributes


async def _setup(monkeypatch: pytest.MonkeyPatch, env: WorkflowEnvironment, namespace: str,
                 **extra: str) -> Result:
    monkeypatch.setenv("PTCE_TEMPORAL__ADDRESS", env.client.service_client.config.target_host)
    monkeypatch.setenv("PTCE_TEMPORAL__NAMESPACE", namespace)
    for key, value in extra.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:  # the command runs its own event loop
        return await asyncio.to_thread(CliRunner().invoke, app, ["temporal", "setup"])
    finally:
        get_settings.cache_clear()


async def _retention(env: WorkflowEnvironment, namespace: str) -> timedelta:
    described = await env.client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=namespace))
    return described.config.workflow_execution_retention_ttl.ToTimedelta()


async def test_setup_creates_the_namespace_with_years_of_retention_and_follows_the_setting(
        dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch) -> None:
    namespace = f"ptce-{uuid.uuid4().hex[:8]}"
    assert TemporalSettings().retention_days == 3650  # the default: ten years

    first = await _setup(monkeypatch, dev_env, namespace)
    assert first.exit_code == 0, first.output
    assert f"Namespace {namespace}: created, retention 3650 days" in first.output
    assert await _retention(dev_env, namespace) == timedelta(days=3650)
    listed = await dev_env.client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace))
    assert {k.name for k in search_attributes.ALL} <= set(listed.custom_attributes)

    again = await _setup(monkeypatch, dev_env, namespace)
    assert again.exit_code == 0, again.output
    assert f"Namespace {namespace}: present, retention 3650 days" in again.output
    assert "Search attributes added: none (all present)" in again.output

    longer = await _setup(monkeypatch, dev_env, namespace, PTCE_TEMPORAL__RETENTION_DAYS="4000")
    assert longer.exit_code == 0, longer.output
    assert "retention changed from 3650 to 4000 days" in longer.output
    assert await _retention(dev_env, namespace) == timedelta(days=4000)


def test_the_shared_default_namespace_is_not_the_services() -> None:
    assert TemporalSettings().namespace == "ptce"
    with pytest.raises(ValueError):
        TemporalSettings(retention_days=0)


async def test_the_clients_of_the_service_use_the_configured_namespace(
        dev_env: WorkflowEnvironment) -> None:
    address = dev_env.client.service_client.config.target_host
    client = await connect(TemporalSettings(address=address, namespace=dev_env.client.namespace))
    assert client.namespace == dev_env.client.namespace == "ptce"


def test_the_dev_stack_creates_the_services_namespace() -> None:
    [temporal] = [c for c in plan(Settings(), 8025, 8100) if c.name == "temporal"]
    at = temporal.args.index("--namespace")
    assert temporal.args[at + 1] == "ptce"
    other = Settings(temporal=TemporalSettings(namespace="default"))
    [temporal] = [c for c in plan(other, 8025, 8100) if c.name == "temporal"]
    assert "--namespace" not in temporal.args  # the dev server always has that one
