"""Every branch a real dossier can take, on the time-skipping server (issue: the lifecycle)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from core.domain.procedure import ConsultationStatus, DossierChanged, Outcome, Stage
from core.ids import consultation_workflow_id, dossier_workflow_id
from core.rules.eligibility import Assessment, Criterion, EligibilityAssessment
from tests.support import Stack
from tests.workflows.helpers import (
    AGENT,
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
from workflows.payloads import EligibilityRecord

INCOMPLETE = 2  # demo sample: statutes missing, governance too long
QNI = "samir.benali@qni.example"


async def _accepted_updates(handle: WorkflowHandle) -> int:  # type: ignore[type-arg]
    history = await handle.fetch_history()
    return sum(1 for e in history.events
               if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)


async def test_incomplete_dossier_corrected_in_time_goes_on(
    time_env: WorkflowEnvironment, ts_stack: Stack
) -> None:
    n = await ts_stack.file(INCOMPLETE)
    async with ts_stack.worker(time_env.client) as worker:
        handle = await start_dossier(time_env.client, n, worker.task_queue)
        status = await wait_for_stage(handle, Stage.AWAITING_CORRECTION)
        assert status.completeness is not None
        assert {i.field for i in status.completeness.issues} == {
            "structure.statutes", "descriptions.governance"}
        await time_env.sleep(timedelta(days=15))  # past the day-14 reminder
        await asyncio.sleep(1.1)  # the platform dates changes to the second
        await ts_stack.edit(n, statutes=["statuts.pdf"], governance="Collège unique, une voix.")
        await handle.signal(DossierWorkflow.dossier_changed, DossierChanged())
        status = await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY
                                and s.consultations)
        assert status.completeness is not None and status.completeness.complete
        # End cleanly: terminating with activities in flight would freeze the time-skipping
        # server's clock for the next tests (an activity it never sees finish keeps it locked).
        await handle.execute_update(DossierWorkflow.confirm_admissibility,
                                    admissible(False, "Fin du test."))
        await handle.result()
        await record_history(time_env.client, "corrected-in-time", dossier_workflow_id(n))

    # The request is the platform's: its email leads to the message listing the items.
    assert await ts_stack.emails(to=QNI, subject="est incomplet") == []
    assert [e["kind"] for e in await ts_stack.platform_emails(n)] == [
        "en_construction", "pending_correction", "en_instruction"]
    platform = await ts_stack.dossier(n)
    [request] = [m["body"] for m in platform["messages"] if "incomplet" in m["body"]]
    assert "Statuts de la structure porteuse" in request and "Mode de gouvernance" in request
    assert len(await ts_stack.emails(to=QNI, subject="Rappel")) == 1
    mutations = await ts_stack.mutations(n)
    assert mutations[:2] == ["dossierEnvoyerMessage", "dossierPasserEnInstruction"]
    assert await ts_stack.snapshots(n) == 2  # the original and the corrected version


async def test_incomplete_dossier_never_corrected_is_closed_sans_suite(
    time_env: WorkflowEnvironment, ts_stack: Stack
) -> None:
    n = await ts_stack.file(INCOMPLETE)
    async with ts_stack.worker(time_env.client) as worker:
        handle = await start_dossier(time_env.client, n, worker.task_queue)
        result = await handle.result()  # the server skips the 30 days
        await record_history(time_env.client, "never-corrected", dossier_workflow_id(n))

    assert result.outcome is Outcome.SANS_SUITE
    assert "Statuts de la structure porteuse" in result.motivation
    assert result.consultations == []
    platform = await ts_stack.dossier(n)
    assert platform["state"] == "sans_suite"
    assert await ts_stack.mutations(n) == [
        "dossierEnvoyerMessage", "dossierModifierAnnotations",
        "dossierAnnulerDemandeCorrection", "dossierPasserEnInstruction",
        "dossierClasserSansSuite"]
    decision_mail = await ts_stack.emails(to=QNI, subject="Décision")
    assert len(decision_mail) == 1 and "classée sans suite" in decision_mail[0]["text"]
    # Neither the technical passage en instruction nor the decision are the platform's emails.
    assert [e["kind"] for e in await ts_stack.platform_emails(n)] == [
        "en_construction", "pending_correction"]
    assert await ts_stack.emails(subject="Avis de la CRA") == []  # no committee consulted
    record = await ts_stack.record(n)
    assert record is not None and record.outcome == "sans_suite"


async def test_bessii_refuses_admissibility(time_env: WorkflowEnvironment, ts_stack: Stack) -> None:
    n = await ts_stack.file(0)
    async with ts_stack.worker(time_env.client) as worker:
        handle = await start_dossier(time_env.client, n, worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and s.consultations)
        await handle.execute_update(DossierWorkflow.confirm_admissibility,
                                    admissible(False, "Le porteur n’est pas une structure de l’ESS."))
        result = await handle.result()
        await record_history(time_env.client, "not-admissible", dossier_workflow_id(n),
                     consultation_workflow_id(n, "53"))

    assert result.outcome is Outcome.SANS_SUITE
    assert result.motivation == "Le porteur n’est pas une structure de l’ESS."
    assert [c.status for c in result.consultations] == [ConsultationStatus.SKIPPED]
    assert (await ts_stack.dossier(n))["state"] == "sans_suite"


async def test_one_member_answers_after_a_reminder_and_the_other_amends(
    time_env: WorkflowEnvironment, ts_stack: Stack
) -> None:
    n = await ts_stack.file(0)
    client = time_env.client
    async with ts_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and s.consultations)
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await time_env.sleep(timedelta(days=8))
        cra = consultation(client, n, "53")
        first = await cra.execute_update(CraConsultationWorkflow.submit_opinion,
                                         opinion("cra-53-ess", "favourable", "Bon ancrage."))
        amended = await cra.execute_update(
            CraConsultationWorkflow.submit_opinion,
            opinion("cra-53-cress", "favourable_with_reservations", "Financement fragile."))
        status = await wait_for(handle, lambda s: s.consultations[0].opinion is not None
                                and s.consultations[0].opinion.amended_by)
        await handle.execute_update(DossierWorkflow.record_decision,
                                    decision(Outcome.LAUREAT))
        result = await handle.result()
        await record_history(client, "amended", dossier_workflow_id(n), consultation_workflow_id(n, "53"))

    assert first.written_by == "cra-53-ess" and first.amended_by == []
    assert amended.written_by == "cra-53-ess" and amended.amended_by == ["cra-53-cress"]
    assert status.consultations[0].opinion is not None
    assert status.consultations[0].opinion.opinion.value == "favourable_with_reservations"
    assert result.consultations[0].status is ConsultationStatus.ANSWERED
    assert result.consultations[0].opinion == amended
    assert len(await ts_stack.emails(subject="Rappel : avis de la CRA")) == 2  # day 7 only
    cra_info = await ts_stack.emails(subject="Décision prise sur le dossier")
    assert sorted(cra_info[0]["to"]) == ["cress.53@cra.localhost", "ess.53@cra.localhost"]


async def test_decision_during_consultation_refused_then_accepted_with_override(
    time_env: WorkflowEnvironment, ts_stack: Stack
) -> None:
    n = await ts_stack.file(1)  # two regions
    client = time_env.client
    async with ts_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY
                       and len(s.consultations) == 2)
        with pytest.raises(WorkflowUpdateFailedError) as early:
            await handle.execute_update(DossierWorkflow.record_decision, decision())
        assert isinstance(early.value.cause, ApplicationError)
        assert early.value.cause.type == "WrongStage"  # admissibility first
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await consultation(client, n, "76").execute_update(
            CraConsultationWorkflow.submit_opinion, opinion("cra-76-ess"))
        await wait_for(handle, lambda s: s.stage is Stage.INSTRUCTION
                       and any(c.opinion for c in s.consultations))
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(DossierWorkflow.record_decision, decision())
        assert isinstance(refused.value.cause, ApplicationError)
        assert refused.value.cause.type == "ConsultationOpen"
        assert "Nouvelle-Aquitaine" in refused.value.cause.message
        await handle.execute_update(
            DossierWorkflow.record_decision,
            decision(Outcome.LAUREAT, override="Comité de sélection avancé au 3 décembre."))
        result = await handle.result()
        await record_history(client, "override", dossier_workflow_id(n),
                     consultation_workflow_id(n, "76"), consultation_workflow_id(n, "75"))

    by_region = {c.region: c.status for c in result.consultations}
    assert by_region == {"76": ConsultationStatus.ANSWERED, "75": ConsultationStatus.SKIPPED}
    # Admissibility and the overriding decision; the two refusals left no trace in history.
    assert await _accepted_updates(handle) == 2
    assert (await ts_stack.dossier(n))["state"] == "accepte"


async def test_answers_refused_after_deadline_from_strangers_and_when_invalid(
    time_env: WorkflowEnvironment, ts_stack: Stack
) -> None:
    n = await ts_stack.file(0)
    client = time_env.client
    async with ts_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and s.consultations)
        cra = consultation(client, n, "53")
        with pytest.raises(WorkflowUpdateFailedError) as stranger:
            await cra.execute_update(CraConsultationWorkflow.submit_opinion,
                                     opinion("cra-76-ess"))  # a member of another region
        assert isinstance(stranger.value.cause, ApplicationError)
        assert stranger.value.cause.type == "UnknownMember"
        with pytest.raises(WorkflowUpdateFailedError):
            await cra.execute_update("submit_opinion", {  # the declaration is missing
                "member_id": "cra-53-ess", "opinion": "favourable", "motivation": "Oui.",
                "no_conflict_of_interest": False})
        with pytest.raises(WorkflowUpdateFailedError):
            await cra.execute_update("submit_opinion", {
                "member_id": "cra-53-ess", "opinion": "favourable", "motivation": "  ",
                "no_conflict_of_interest": True})
        assert await _accepted_updates(cra) == 0
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await handle.execute_update(DossierWorkflow.record_eligibility, EligibilityRecord(
            agent=AGENT, assessment=EligibilityAssessment(criteria={
                Criterion.GROUPING: Assessment.MET, Criterion.TERRITORIAL_ANCHORING: Assessment.MET,
                Criterion.QUALITY_JOBS: Assessment.PLANNED,
                Criterion.LOCAL_RESOURCES: Assessment.PLANNED})))
        await time_env.sleep(timedelta(days=22))
        status = await wait_for(
            handle, lambda s: s.consultations[0].status is ConsultationStatus.NO_RESPONSE)
        assert status.eligibility_majority is True
        assert status.territory is not None and status.territory.zrr
        with pytest.raises((WorkflowUpdateFailedError, RPCError)):  # over: nobody answers now
            await cra.execute_update(CraConsultationWorkflow.submit_opinion,
                                     opinion("cra-53-ess"))
        await handle.execute_update(DossierWorkflow.record_decision,
                                    decision(Outcome.NON_RETENU, "Trop tôt."))
        result = await handle.result()
        await record_history(client, "eligibility-no-answer-not-selected",
                             dossier_workflow_id(n), consultation_workflow_id(n, "53"))
    assert result.consultations[0].opinion is None
