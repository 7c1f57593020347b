"""The versioning plan on a real dev server: a worker given a build id
(``PTCE_TEMPORAL__BUILD_ID``) registers a Worker Deployment version, ``ptce temporal
set-current-version`` makes it current, dossiers then run on it as AUTO_UPGRADE and the intake
as PINNED, moving on at each continue-as-new; without a build id the worker is unversioned and
the intake continues as new all the same."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from temporalio.api.enums.v1 import VersioningBehavior
from temporalio.api.workflowservice.v1 import DescribeWorkerDeploymentRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from api.cli.binaries import temporal_cli
from api.cli.main import app
from api.cli.worker import build_worker, deployment_config
from core.ids import dossier_workflow_id, sync_workflow_id
from core.settings import Settings, TemporalSettings, get_settings
from tests.support import Stack
from tests.workflows.helpers import start_dossier, wait_for
from workflows.sync import DemarcheSyncWorkflow, SyncInput


def _versioned(stack: Stack, deployment: str, build_id: str) -> Settings:
    temporal = stack.settings.temporal.model_copy(update={
        "deployment_name": deployment, "build_id": build_id})
    return stack.settings.model_copy(update={"temporal": temporal})


async def _versions(client: Client, deployment: str, timeout: float = 30.0) -> list[str]:
    """The deployment's versions, once the worker's first poll has registered it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            described = await client.workflow_service.describe_worker_deployment(
                DescribeWorkerDeploymentRequest(namespace=client.namespace,
                                                deployment_name=deployment))
            return [v.deployment_version.build_id
                    for v in described.worker_deployment_info.version_summaries]
        except RPCError:
            if asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(0.2)


async def _versioning(handle: WorkflowHandle[Any, Any], expected: int,
                      timeout: float = 30.0) -> Any:
    """The run's versioning info once a task completed on a versioned worker with the behaviour
    expected (a new run shows its continue-as-new's initial behaviour until its first task)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        info = (await handle.describe()).raw_description.workflow_execution_info.versioning_info
        if info.behavior == expected:
            return info
        assert asyncio.get_running_loop().time() < deadline, f"never {expected}: {info}"
        await asyncio.sleep(0.2)


async def _cli(monkeypatch: pytest.MonkeyPatch, env: WorkflowEnvironment, *args: str,
               **variables: str) -> Any:
    monkeypatch.setenv("PTCE_TEMPORAL__ADDRESS", env.client.service_client.config.target_host)
    monkeypatch.setenv("PTCE_TEMPORAL__NAMESPACE", env.client.namespace)
    for key, value in variables.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        return await asyncio.to_thread(CliRunner().invoke, app, list(args))
    finally:
        get_settings.cache_clear()


def test_without_a_build_id_the_worker_is_unversioned() -> None:
    assert TemporalSettings().build_id == ""
    assert deployment_config(TemporalSettings()) is None
    versioned = deployment_config(TemporalSettings(build_id="2026.12.1"))
    assert versioned is not None and versioned.use_worker_versioning
    assert versioned.version.to_canonical_string() == "ptce.2026.12.1"


async def test_a_worker_with_a_build_id_registers_its_version_and_runs_what_is_routed_to_it(
        dev_env: WorkflowEnvironment, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    client = dev_env.client
    deployment, build_id = f"ptce-{uuid.uuid4().hex[:8]}", "2026.12.1"
    settings = _versioned(dev_stack, deployment, build_id)
    number = await dev_stack.file(0)
    queue = f"tq-{uuid.uuid4()}"
    async with build_worker(client, settings, dev_stack.res, task_queue=queue):
        assert await _versions(client, deployment) == [build_id]
        # The operator's own view, with the real CLI.
        shown = await asyncio.create_subprocess_exec(
            str(temporal_cli()), "worker", "deployment", "describe", "--name", deployment,
            "--address", client.service_client.config.target_host, "-n", client.namespace,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out = (await shown.communicate())[0].decode()
        assert shown.returncode == 0 and build_id in out, out

        made = await _cli(monkeypatch, dev_env, "temporal", "set-current-version",
                          PTCE_TEMPORAL__DEPLOYMENT_NAME=deployment,
                          PTCE_TEMPORAL__BUILD_ID=build_id)
        assert made.exit_code == 0, made.output
        assert f"Current version of {deployment}: {deployment}.{build_id} (was unversioned)" \
            in made.output

        dossier = await start_dossier(client, number, queue)
        await wait_for(dossier, lambda s: s.stage is not None)
        info = await _versioning(dossier, VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE)
        assert info.deployment_version.build_id == build_id

        intake = await client.start_workflow(
            DemarcheSyncWorkflow.run,
            SyncInput(demarche=1001, interval=timedelta(milliseconds=100), polls_per_run=1),
            id=f"{sync_workflow_id(1001)}-{uuid.uuid4().hex[:8]}", task_queue=queue)
        first = (await intake.describe()).run_id
        info = await _versioning(intake, VersioningBehavior.VERSIONING_BEHAVIOR_PINNED)
        assert info.deployment_version.build_id == build_id
        # Its next run (continue-as-new) starts on the current version and is pinned again.
        latest = client.get_workflow_handle(intake.id)
        await _new_run(latest, first)
        info = await _versioning(latest, VersioningBehavior.VERSIONING_BEHAVIOR_PINNED)
        assert info.deployment_version.build_id == build_id
        await latest.terminate("test over")
        await client.get_workflow_handle(dossier_workflow_id(number)).terminate("test over")


async def test_an_unversioned_intake_continues_as_new(dev_env: WorkflowEnvironment,
                                                     dev_stack: Stack) -> None:
    client = dev_env.client
    async with dev_stack.worker(client) as worker:
        intake = await client.start_workflow(
            DemarcheSyncWorkflow.run,
            SyncInput(demarche=1001, interval=timedelta(milliseconds=100), polls_per_run=1),
            id=f"{sync_workflow_id(1001)}-{uuid.uuid4().hex[:8]}", task_queue=worker.task_queue)
        latest = client.get_workflow_handle(intake.id)
        await _new_run(latest, (await intake.describe()).run_id)
        await latest.terminate("test over")


async def _new_run(handle: WorkflowHandle[Any, Any], first: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (await handle.describe()).run_id == first:
        if asyncio.get_running_loop().time() > deadline:
            events = [e async for e in handle.fetch_history_events()]
            raise AssertionError(f"no continue-as-new: {events[-3:]}")
        await asyncio.sleep(0.2)
