"""Reset to a stage on a real dev server: dry run first, then the reset; the CRA answer and the
admissibility recorded after the reset point are re-applied, and no email is sent twice."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from typer.testing import Result

from api.admin.reset import execute_reset, plan_reset
from api.errors import Refused
from core.db.repositories import AdminActionRepository
from core.domain.procedure import ConsultationStatus, DossierChanged, Outcome, Stage
from core.ids import dossier_workflow_id
from tests.support import Stack
from tests.workflows.helpers import (
    CLI_ADMIN,
    admin_cli,
    admissible,
    consultation,
    decision,
    opinion,
    start_dossier,
    wait_for,
)
from workflows.consultation import CraConsultationWorkflow
from workflows.dossier import DossierWorkflow


async def _cli(monkeypatch: pytest.MonkeyPatch, env: WorkflowEnvironment, s: Stack, n: int,
               *extra: str) -> Result:
    return await admin_cli(monkeypatch, env, s, "reset", dossier_workflow_id(n), "--to-stage",
                           "admissibility", "--reason", "Recevabilité à revoir", *extra)


async def _reset_point_recorded(client: Client, n: int, stage: Stage) -> None:
    """Waits until the stage's reset point exists (the workflow task completed after entering
    it, once its record is saved), so that what the test sends next comes after the point."""
    for _ in range(100):
        with contextlib.suppress(Refused):
            await plan_reset(client, dossier_workflow_id(n), stage)
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no reset point for {stage}")


async def test_reset_to_admissibility_keeps_the_answers_and_sends_nothing_twice(
        dev_env: WorkflowEnvironment, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    client = dev_env.client
    n = await dev_stack.file(0)
    async with dev_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and s.consultations)
        # The platform's echo of "passer en instruction", as the intake relays it. On the lean
        # path (issue 18) the stage's record is written inside the task that enters it: the
        # point, the next task completed, comes with the next event.
        await handle.signal(DossierWorkflow.dossier_changed, DossierChanged())
        await _reset_point_recorded(client, n, Stage.ADMISSIBILITY)  # the answer comes after it
        await consultation(client, n, "53").execute_update(
            CraConsultationWorkflow.submit_opinion, opinion("cra-53-ess"))
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await wait_for(handle, lambda s: s.stage is Stage.INSTRUCTION
                       and s.consultations[0].opinion is not None)
        with pytest.raises(Refused):
            await plan_reset(client, dossier_workflow_id(n), Stage.NOTIFICATION)

        plan = await plan_reset(client, dossier_workflow_id(n), Stage.ADMISSIBILITY)
        assert "update confirm_admissibility" in plan.reapplied
        assert "signal cra_opinion" in plan.reapplied
        assert (await handle.describe()).run_id == plan.run_id  # a dry run changes nothing

        # The command: a dry run by default, then --yes; both audited.
        dry = await _cli(monkeypatch, dev_env, dev_stack, n)
        assert dry.exit_code == 0, dry.output
        assert "update confirm_admissibility" in dry.output and "Simulation" in dry.output
        assert (await handle.describe()).run_id == plan.run_id
        done = await _cli(monkeypatch, dev_env, dev_stack, n, "--yes")
        assert done.exit_code == 0, done.output
        new_run = (await handle.describe()).run_id
        assert new_run != plan.run_id and new_run in done.output
        reset = client.get_workflow_handle_for(DossierWorkflow.run, dossier_workflow_id(n),
                                               run_id=new_run)
        status = await wait_for(reset, lambda s: s.stage is Stage.INSTRUCTION)
        assert status.admissibility is not None  # re-applied: its validator accepted it again
        assert status.consultations[0].status is ConsultationStatus.ANSWERED
        await reset.execute_update(DossierWorkflow.record_decision, decision(Outcome.LAUREAT))
        result = await reset.result()

    assert result.outcome is Outcome.LAUREAT
    assert result.consultations[0].opinion is not None
    keys = await dev_stack.sent_keys(n)
    assert len(keys) == len(set(keys))
    messages = await dev_stack.emails()
    assert all(c == 1 for c in Counter(m["message_id"] for m in messages).values())
    assert await dev_stack.emails(subject="Accusé de réception") == []  # the platform's own
    assert len(await dev_stack.emails(subject="Avis de la CRA")) == 2  # one invitation each
    assert len(await dev_stack.emails(subject="Décision sur votre candidature")) == 1
    async with dev_stack.res.db.unit_of_work() as session:
        audit = await AdminActionRepository(session).list_for(dossier_workflow_id(n))
    assert [(a.action, a.result, a.actor_id) for a in audit] == [
        ("reset", "dry_run", CLI_ADMIN), ("reset", "done", CLI_ADMIN)]


async def test_send_back_to_admissibility_drops_bessii_updates_but_keeps_the_cra_answer(
        dev_env: WorkflowEnvironment, dev_stack: Stack) -> None:
    client = dev_env.client
    n = await dev_stack.file(0)
    async with dev_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and s.consultations)
        await consultation(client, n, "53").execute_update(
            CraConsultationWorkflow.submit_opinion, opinion("cra-53-cress", "unfavourable",
                                                            "Gouvernance floue."))
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await wait_for(handle, lambda s: s.stage is Stage.INSTRUCTION
                       and s.consultations[0].opinion is not None)

        plan = await plan_reset(client, dossier_workflow_id(n), Stage.ADMISSIBILITY)
        assert "update" not in " ".join(plan.lines(drop_updates=True)[3:])
        new_run = await execute_reset(client, plan, "Recevabilité à revoir", CLI_ADMIN,
                                      drop_updates=True)
        reset = client.get_workflow_handle_for(DossierWorkflow.run, dossier_workflow_id(n),
                                               run_id=new_run)
        status = await wait_for(reset, lambda s: s.consultations[0].opinion is not None)
        assert status.stage is Stage.ADMISSIBILITY and status.admissibility is None
        assert status.consultations[0].opinion is not None
        assert status.consultations[0].opinion.written_by == "cra-53-cress"
        await reset.execute_update(DossierWorkflow.confirm_admissibility,
                                   admissible(False, "Statuts non conformes."))
        result = await reset.result()

    assert result.outcome is Outcome.SANS_SUITE
    keys = await dev_stack.sent_keys(n)
    assert len(keys) == len(set(keys))
    assert len(await dev_stack.emails(subject="Avis de la CRA")) == 2
    assert len(await dev_stack.emails(subject="Décision sur votre candidature")) == 1
