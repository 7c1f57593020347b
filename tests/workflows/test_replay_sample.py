"""The pre-deploy check: ``ptce admin replay --sample N`` replays N of the cluster's running
executions, drawn among all of them, against the code about to be deployed, and says what
their histories exercise."""

from __future__ import annotations

import pytest
from temporalio.testing import WorkflowEnvironment

from core.domain.procedure import Stage
from tests.support import Stack
from tests.workflows.helpers import admin_cli, start_dossier, wait_for


async def test_a_sample_of_the_running_executions_replays_on_the_new_code(
        dev_env: WorkflowEnvironment, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    client = dev_env.client
    async with dev_stack.worker(client) as worker:
        handles = [await start_dossier(client, await dev_stack.file(i), worker.task_queue)
                   for i in range(3)]
        for handle in handles:
            await wait_for(handle, lambda s: s.stage in (Stage.ADMISSIBILITY,
                                                         Stage.AWAITING_CORRECTION))
        ours = " OR ".join(f"WorkflowId = '{h.id}'" for h in handles)
        done = await admin_cli(monkeypatch, dev_env, dev_stack, "replay", "--sample", "2",
                               "--seed", "7", "--query",
                               f"ExecutionStatus = 'Running' AND ({ours})")
        everything = await admin_cli(monkeypatch, dev_env, dev_stack, "replay", "--sample", "5")
        for handle in handles:
            await handle.terminate("test over")

    assert done.exit_code == 0, done.output
    assert "2 rejoué(s) (échantillon de 2 sur 3 en cours), 0 non déterministe(s)." in done.output
    assert "DossierWorkflow : 2 historique(s)" in done.output
    assert "activités : " in done.output and "store_record" in done.output
    # The default: every running execution of the service's workflow types, on a shared
    # server (other tests' too): a sample of at most 5, all replayed.
    assert everything.exit_code == 0, everything.output
    assert "0 non déterministe(s)." in everything.output
