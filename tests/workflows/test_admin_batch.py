"""`ptce admin batch` on a real dev server: the dry run only lists; `--yes` terminates each
selected dossier, audited."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from core.db.repositories import AdminActionRepository
from core.domain.procedure import Stage
from tests.support import Stack
from tests.workflows.helpers import admin_cli, start_dossier, wait_for


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

        dry = await admin_cli(monkeypatch, dev_env, dev_stack, "batch", query, "--operation",
                         "terminate", "--reason", "Dossiers de test")
        assert dry.exit_code == 0, dry.output
        assert "2 exécution(s)" in dry.output
        assert [(await h.describe()).status for h in handles] == [
            WorkflowExecutionStatus.RUNNING] * 2

        done = await admin_cli(monkeypatch, dev_env, dev_stack, "batch", query, "--operation",
                          "terminate", "--reason", "Dossiers de test", "--rate", "20", "--yes")
        assert done.exit_code == 0, done.output
        assert [(await h.describe()).status for h in handles] == [
            WorkflowExecutionStatus.TERMINATED] * 2

    async with dev_stack.res.db.unit_of_work() as session:
        audit = await AdminActionRepository(session).list_for(query)
    assert [(a.action, a.result) for a in audit] == [
        ("batch_terminate", "dry_run"), ("batch_terminate", "done")]
