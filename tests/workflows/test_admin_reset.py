"""Reset to a stage on a real dev server: the dry run lists what will be re-applied and what
dropped; the reset re-applies exactly that (the new runs' histories hold exactly the Updates
listed, each accepted), consultations opened after the point are reopened without a collision,
and the dossier ends with one notification, no email sent twice."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from typer.testing import Result

from api.admin.desk import AdminDesk
from api.admin.reset import ResetPlan, plan_reset
from api.errors import Refused
from core.db.repositories import AdminActionRepository
from core.domain.admin import ReferentCorrection
from core.domain.procedure import ConsultationStatus, DossierChanged, Outcome, Stage
from core.ids import consultation_workflow_id, dossier_workflow_id
from core.rules.eligibility import Assessment, Criterion, EligibilityAssessment
from tests.support import Stack
from tests.workflows.helpers import (
    AGENT,
    CLI_ADMIN,
    admin_cli,
    admissible,
    consultation,
    decision,
    opinion,
    start_dossier,
    wait_for,
)
from tests.workflows.test_admin_amendments import ADMIN
from tests.workflows.test_dossier_branches import INCOMPLETE
from workflows.consultation import CraConsultationWorkflow
from workflows.dossier import DossierWorkflow
from workflows.payloads import EligibilityRecord


async def _cli(monkeypatch: pytest.MonkeyPatch, env: WorkflowEnvironment, s: Stack, n: int,
               stage: Stage, *extra: str) -> Result:
    return await admin_cli(monkeypatch, env, s, "reset", dossier_workflow_id(n), "--to-stage",
                           stage.value, "--reason", "Reprise à l’étape", *extra)


async def _reset_point_recorded(client: Client, n: int, stage: Stage) -> None:
    """Waits until the stage's reset point exists (the workflow task completed after entering
    it), so that what the test sends next comes after the point."""
    for _ in range(100):
        with contextlib.suppress(Refused):
            await plan_reset(client, dossier_workflow_id(n), stage)
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no reset point for {stage}")


async def _accepted(client: Client, workflow_id: str, run_id: str | None = None
                    ) -> list[tuple[str, str]]:
    """(name, Update id) of every Update the run accepted, in order."""
    found = []
    async for event in client.get_workflow_handle(workflow_id, run_id=run_id
                                                  ).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            found.append((request.input.name, request.meta.update_id))
    return found


def _kept(plan: ResetPlan, target: str) -> list[tuple[str, str]]:
    return [(d.name, d.update_id or "") for d in plan.deliveries
            if d.kind == "update" and d.dropped is None and d.target == target]


async def _through_instruction(client: Client, s: Stack, n: int, handle: Any) -> None:
    """Every stage, with what comes in at each: the applicant's correction (a signal), the
    CRA's opinion, an admin's correction, BESSII's admissibility and eligibility criteria."""
    await wait_for(handle, lambda st: st.stage is Stage.AWAITING_CORRECTION)
    await _reset_point_recorded(client, n, Stage.AWAITING_CORRECTION)
    await asyncio.sleep(1.1)  # the platform dates changes to the second
    await s.edit(n, statutes=["statuts.pdf"], governance="Collège unique, une voix.")
    await handle.signal(DossierWorkflow.dossier_changed, DossierChanged())
    await wait_for(handle, lambda st: st.stage is Stage.ADMISSIBILITY
                   and all(c.invited_at for c in st.consultations))
    await _reset_point_recorded(client, n, Stage.ADMISSIBILITY)
    await consultation(client, n, "93").execute_update(
        CraConsultationWorkflow.submit_opinion, opinion("cra-93-ess"))
    await AdminDesk(client, s.res.db).correct_referent_email(n, ReferentCorrection(
        agent=ADMIN, reason="Adresse donnée par téléphone.",
        referent_email="referente@example.org"))
    await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible(),
                                id="confirm_admissibility:form-1")
    await wait_for(handle, lambda st: st.stage is Stage.INSTRUCTION
                   and st.consultations[0].opinion is not None)
    await _reset_point_recorded(client, n, Stage.INSTRUCTION)
    await handle.execute_update(DossierWorkflow.record_eligibility, EligibilityRecord(
        agent=AGENT, assessment=EligibilityAssessment(criteria={
            Criterion.GROUPING: Assessment.MET, Criterion.QUALITY_JOBS: Assessment.PLANNED})))


EXPECTED = {  # what each reset re-applies, as a user reads it in the dry run
    Stage.RECEIVED: ["signal dossier_changed", "update correct_referent_email",
                     "update confirm_admissibility", "update record_eligibility"],
    Stage.AWAITING_CORRECTION: ["signal dossier_changed", "update correct_referent_email",
                                "update confirm_admissibility", "update record_eligibility"],
    Stage.ADMISSIBILITY: ["signal cra_opinion", "update correct_referent_email",
                          "update confirm_admissibility", "update record_eligibility"],
    Stage.INSTRUCTION: ["update record_eligibility"],
}


@pytest.mark.parametrize("stage", list(EXPECTED), ids=lambda s: s.value)
async def test_a_reset_to_each_stage_reapplies_exactly_what_the_dry_run_printed(
        stage: Stage, dev_env: WorkflowEnvironment, dev_stack: Stack,
        monkeypatch: pytest.MonkeyPatch) -> None:
    client = dev_env.client
    n = await dev_stack.file(INCOMPLETE)
    dossier, cra = dossier_workflow_id(n), consultation_workflow_id(n, "93")
    async with dev_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await _through_instruction(client, dev_stack, n, handle)
        before = (await handle.describe()).run_id
        with pytest.raises(Refused):
            await plan_reset(client, dossier, Stage.NOTIFICATION)

        plan = await plan_reset(client, dossier, stage)
        reopened = stage in (Stage.RECEIVED, Stage.AWAITING_CORRECTION)
        assert plan.reopened == ([cra] if reopened else [])
        names = [line.split(" (")[0].split(" → ")[0].split(" :")[0] for line in plan.reapplied]
        assert [x for x in names if not x.startswith("update submit_opinion")] == EXPECTED[stage]
        if reopened:  # the CRA's answer goes to the reopened consultation, its notice dropped
            assert f"update submit_opinion → {cra}" in plan.reapplied
            assert any(line.startswith("signal cra_opinion") for line in plan.dropped)
        dry = await _cli(monkeypatch, dev_env, dev_stack, n, stage)
        assert dry.exit_code == 0, dry.output
        assert "Simulation" in dry.output
        for line in [*plan.reapplied, *plan.dropped]:
            assert f"    - {line}" in dry.output
        assert (await handle.describe()).run_id == before  # a dry run changes nothing

        done = await _cli(monkeypatch, dev_env, dev_stack, n, stage, "--yes")
        assert done.exit_code == 0, done.output
        assert "DIFFÉRENCE" not in done.output
        new_run = (await handle.describe()).run_id
        assert new_run != before and new_run in done.output
        for line in plan.reapplied:
            assert f"{line} : ré-appliqué" in done.output
        reset = client.get_workflow_handle_for(DossierWorkflow.run, dossier, run_id=new_run)
        status = await wait_for(reset, lambda s: s.stage is Stage.INSTRUCTION
                                and s.eligibility is not None
                                and s.consultations[0].opinion is not None)
        assert status.admissibility is not None
        assert status.dossier is not None
        assert status.dossier.referent.email == "referente@example.org"
        # Exactly the Updates listed, each accepted once, with their ids: in the new runs.
        accepted = await _accepted(client, dossier, new_run)
        assert accepted[-len(_kept(plan, dossier)):] == _kept(plan, dossier)
        if reopened:
            assert await _accepted(client, cra) == _kept(plan, cra)
        await reset.execute_update(DossierWorkflow.record_decision, decision(Outcome.LAUREAT))
        result = await reset.result()

    assert result.outcome is Outcome.LAUREAT
    assert result.consultations[0].status is ConsultationStatus.ANSWERED
    keys = await dev_stack.sent_keys(n)
    assert len(keys) == len(set(keys))
    messages = await dev_stack.emails()
    assert all(c == 1 for c in Counter(m["message_id"] for m in messages).values())
    assert len(await dev_stack.emails(subject="Avis de la CRA")) == 2  # one invitation each
    assert len(await dev_stack.emails(subject="Décision sur votre candidature")) == 1
    async with dev_stack.res.db.unit_of_work() as session:
        audit = await AdminActionRepository(session).list_for(dossier)
    assert [(a.action, a.result) for a in audit if a.action == "reset"] == [
        ("reset", "dry_run"), ("reset", "done")]
    assert all(a.actor_id == CLI_ADMIN for a in audit if a.action == "reset")


async def test_drop_updates_sends_bessii_back_but_keeps_the_cra_answer_and_corrections(
        dev_env: WorkflowEnvironment, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    client = dev_env.client
    n = await dev_stack.file(INCOMPLETE)
    async with dev_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await _through_instruction(client, dev_stack, n, handle)

        plan = await plan_reset(client, dossier_workflow_id(n), Stage.ADMISSIBILITY,
                                drop_updates=True)
        assert [line.split(" (")[0] for line in plan.reapplied] == [
            "signal cra_opinion", "update correct_referent_email"]
        assert [line.split(" (")[0].split(" :")[0] for line in plan.dropped] == [
            "update confirm_admissibility", "update record_eligibility"]
        done = await _cli(monkeypatch, dev_env, dev_stack, n, Stage.ADMISSIBILITY, "--yes",
                          "--drop-updates")
        assert done.exit_code == 0 and "DIFFÉRENCE" not in done.output, done.output
        reset = client.get_workflow_handle_for(DossierWorkflow.run, dossier_workflow_id(n),
                                               run_id=(await handle.describe()).run_id)
        status = await wait_for(reset, lambda s: s.consultations[0].opinion is not None
                                and s.dossier is not None
                                and s.dossier.referent.email == "referente@example.org")
        assert status.stage is Stage.ADMISSIBILITY and status.admissibility is None
        assert status.eligibility is None

        # Both dropped: the corrections too, when asked.
        both = await plan_reset(client, dossier_workflow_id(n), Stage.ADMISSIBILITY,
                                drop_updates=True, drop_corrections=True)
        assert not any(line.startswith("update") for line in both.reapplied)
        await reset.execute_update(DossierWorkflow.confirm_admissibility,
                                   admissible(False, "Statuts non conformes."))
        result = await reset.result()

    assert result.outcome is Outcome.SANS_SUITE
    keys = await dev_stack.sent_keys(n)
    assert len(keys) == len(set(keys))
    assert len(await dev_stack.emails(subject="Avis de la CRA")) == 2
    assert len(await dev_stack.emails(subject="Décision sur votre candidature")) == 1


async def test_a_decided_dossier_reset_to_admissibility_gets_its_decision_again_not_twice(
        dev_env: WorkflowEnvironment, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The case the former tool listed as re-applied and silently lost: BESSII's decision,
    delivered again once the new run is back in instruction, accepted; the dossier ends
    notified once more without a mutation or an email twice."""
    client = dev_env.client
    n = await dev_stack.file(0)
    async with dev_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY
                       and all(c.invited_at for c in s.consultations))
        await _reset_point_recorded(client, n, Stage.ADMISSIBILITY)
        await consultation(client, n, "53").execute_update(
            CraConsultationWorkflow.submit_opinion, opinion("cra-53-ess"))
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await wait_for(handle, lambda s: s.stage is Stage.INSTRUCTION
                       and s.consultations[0].opinion is not None)
        await handle.execute_update(DossierWorkflow.record_decision, decision(Outcome.LAUREAT))
        await handle.result()

        plan = await plan_reset(client, dossier_workflow_id(n), Stage.ADMISSIBILITY)
        assert [line.split(" (")[0] for line in plan.reapplied] == [
            "signal cra_opinion", "update confirm_admissibility", "update record_decision"]
        done = await _cli(monkeypatch, dev_env, dev_stack, n, Stage.ADMISSIBILITY, "--yes")
        assert done.exit_code == 0 and "DIFFÉRENCE" not in done.output, done.output
        assert "update record_decision (à l’étape « instruction ») : ré-appliqué" in done.output
        reset = client.get_workflow_handle_for(DossierWorkflow.run, dossier_workflow_id(n),
                                               run_id=(await handle.describe()).run_id)
        result = await reset.result()

    assert result.outcome is Outcome.LAUREAT
    assert await dev_stack.mutations(n) == [
        "dossierPasserEnInstruction", "dossierModifierAnnotations", "dossierAccepter"]
    assert len(await dev_stack.emails(subject="Décision sur votre candidature")) == 1
    keys = await dev_stack.sent_keys(n)
    assert len(keys) == len(set(keys))
