"""A dossier's whole path on the time-skipping server, with the real stand-ins behind it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from core.domain.procedure import ConsultationStatus, Outcome, Stage
from core.ids import consultation_workflow_id, dossier_workflow_id
from tests.support import Stack
from tests.workflows.helpers import (
    admissible,
    consultation,
    decision,
    opinion,
    start_dossier,
    wait_for,
    wait_for_stage,
)
from tests.workflows.recording import record_history
from workflows.consultation import CraConsultationWorkflow
from workflows.dossier import DossierWorkflow


async def test_complete_dossier_with_favourable_opinion_becomes_laureate(
    time_env: WorkflowEnvironment, ts_stack: Stack
) -> None:
    n = await ts_stack.file(0)  # Bretagne, complete
    client = time_env.client
    async with ts_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and s.consultations)
        await consultation(client, n, "53").execute_update(
            CraConsultationWorkflow.submit_opinion, opinion("cra-53-ess"))
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await wait_for(handle, lambda s: s.stage is Stage.INSTRUCTION
                       and s.consultations[0].status is ConsultationStatus.ANSWERED)
        await handle.execute_update(DossierWorkflow.record_decision,
                                    decision(Outcome.LAUREAT, "Projet exemplaire."))
        result = await handle.result()
        await record_history(client, "laureate", dossier_workflow_id(n), consultation_workflow_id(n, "53"))
        histories = [await client.get_workflow_handle(i).fetch_history()
                     for i in (dossier_workflow_id(n), consultation_workflow_id(n, "53"))]

    assert result.outcome is Outcome.LAUREAT
    # The lean path (issue 18). What the workflows write (their commands, their results, the
    # messages they receive): 70-75 events. The workflow tasks around them vary with timing (an
    # activity ending before or after an Update arrives: 17-22 for the dossier on a loaded
    # machine), 3 events each: so the total, ~141 on a quiet machine, is the benchmark's figure.
    tasks = sum(e.HasField("workflow_task_completed_event_attributes")
                for h in histories for e in h.events)
    written = sum(not e.WhichOneof("attributes").startswith("workflow_task_")
                  for h in histories for e in h.events)
    assert written <= 78 and tasks <= 30, (written, tasks)
    assert result.consultations[0].opinion is not None
    assert result.consultations[0].opinion.written_by == "cra-53-ess"
    platform = await ts_stack.dossier(n)
    assert platform["state"] == "accepte"
    assert await ts_stack.mutations(n) == [
        "dossierPasserEnInstruction", "dossierModifierAnnotations", "dossierAccepter"]
    referent = "maelle.legoff@broceliande-coopere.example"
    subjects = [m["subject"] for m in await ts_stack.emails(to=referent)]
    assert [s for s in subjects if s.startswith("Décision sur votre candidature")]
    # One channel per news: the platform acknowledges and says "en instruction", we decide.
    assert not any(s.startswith("Accusé de réception") for s in subjects)
    assert [e["kind"] for e in await ts_stack.platform_emails(n)] == [
        "en_construction", "en_instruction"]
    invitations = await ts_stack.emails(subject="Avis de la CRA Bretagne demandé")
    assert sorted(r for m in invitations for r in m["to"]) == [
        "cress.53@cra.localhost", "ess.53@cra.localhost"]
    assert all("/cra/avis/" in m["text"] for m in invitations)
    assert await ts_stack.emails(subject="Rappel") == []  # answered: no reminder
    record = await ts_stack.record(n)
    assert record is not None and record.outcome == "laureat" and record.stage == "closed"
    assert await ts_stack.snapshots(n) == 1


async def test_nobody_answers_reminders_then_escalation_then_decision_without_opinion(
    time_env: WorkflowEnvironment, ts_stack: Stack
) -> None:
    n = await ts_stack.file(0)
    client = time_env.client
    async with ts_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for_stage(handle, Stage.ADMISSIBILITY)
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await wait_for_stage(handle, Stage.INSTRUCTION)

        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(DossierWorkflow.record_decision,
                                        decision(Outcome.NON_RETENU, "Pas assez mûr."))
        assert isinstance(refused.value.cause, ApplicationError)
        assert refused.value.cause.type == "ConsultationOpen"

        await time_env.sleep(timedelta(days=22))  # weeks of workflow time in seconds
        status = await wait_for(
            handle, lambda s: s.consultations[0].status is ConsultationStatus.NO_RESPONSE)
        assert status.consultations[0].reminders_sent == 3
        await handle.execute_update(DossierWorkflow.record_decision,
                                    decision(Outcome.NON_RETENU, "Pas assez mûr."))
        result = await handle.result()
        await record_history(client, "no-answer", dossier_workflow_id(n),
                     consultation_workflow_id(n, "53"))

    assert result.outcome is Outcome.NON_RETENU
    reminders = await ts_stack.emails(subject="Rappel : avis de la CRA Bretagne")
    assert len(reminders) == 6  # days 7, 14 and 19, to both members
    escalation = await ts_stack.emails(subject="Sans avis de la CRA Bretagne")
    assert [m["to"] for m in escalation] == [["bessii@dgtresor.localhost"]]
    bessii = await ts_stack.emails(subject="Action attendue : enregistrer la décision")
    assert len(bessii) >= 2  # the decision waited three weeks: weekly reminders
    assert (await ts_stack.dossier(n))["state"] == "refuse"
    assert "dossierRefuser" in await ts_stack.mutations(n)
