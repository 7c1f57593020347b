"""`ptce admin batch` on a real dev server: the dry run only lists; `--yes` terminates each
selected dossier, audited."""

from __future__ import annotations

import asyncio
import json

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner, Result

from api.cli import app
from core.db.repositories import AdminActionRepository
from core.domain.procedure import Stage
from core.settings import get_settings
from tests.support import Stack
from tests.workflows.helpers import start_dossier, wait_for

ADMIN = "ada.admin@finances.gouv.fr"


async def _cli(monkeypatch: pytest.MonkeyPatch, env: WorkflowEnvironment, s: Stack,
               *args: str) -> Result:
    monkeypatch.setenv("PTCE_TEMPORAL__ADDRESS", env.client.service_client.config.target_host)
    monkeypatch.setenv("DATABASE_URL", s.settings.effective_database_url)
    monkeypatch.setenv("PTCE_AGENTS__BOOTSTRAP_ADMINS", json.dumps([ADMIN]))
    get_settings.cache_clear()
    try:  # the command runs its own event loop
        return await asyncio.to_thread(CliRunner().invoke, app, ["admin", *args, "--as", ADMIN])
    finally:
        get_settings.cache_clear()


async def test_batch_terminate_dry_run_then_for_real(
        dev_env: WorkflowEnvironment, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    client = dev_env.client
    first, second = await dev_stack.file(0), await dev_stack.file(0)
    query = (f"WorkflowType = 'DossierWorkflow' AND ExecutionStatus = 'Running' AND "
             f"DossierNumber >= {first} AND DossierNumber <= {second}")
    async with dev_stack.worker(client) as worker:
        handles = [await start_dossier(client, n, worker.task_queue) for n in (first, second)]
        for handle in handles:
            await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY)
        while len([e async for e in client.list_workflows(query)]) < 2:  # visibility lags
            await asyncio.sleep(0.2)

        dry = await _cli(monkeypatch, dev_env, dev_stack, "batch", query, "--operation",
                         "terminate", "--reason", "Dossiers de test")
        assert dry.exit_code == 0, dry.output
        assert "2 exécution(s)" in dry.output
        assert [(await h.describe()).status for h in handles] == [
            WorkflowExecutionStatus.RUNNING] * 2

        done = await _cli(monkeypatch, dev_env, dev_stack, "batch", query, "--operation",
                          "terminate", "--reason", "Dossiers de test", "--rate", "20", "--yes")
        assert done.exit_code == 0, done.output
        assert [(await h.describe()).status for h in handles] == [
            WorkflowExecutionStatus.TERMINATED] * 2

    async with dev_stack.res.db.unit_of_work() as session:
        audit = await AdminActionRepository(session).list_for(query)
    assert [(a.action, a.result) for a in audit] == [
        ("batch_terminate", "dry_run"), ("batch_terminate", "done")]
