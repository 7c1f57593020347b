"""BESSII's synthesis reaches the database as the dossier moves (a reminder, an opinion, the
admissibility, the decision), and the Temporal UI's current details say, for each CRA, who
answered and the reminders sent so far; a late retry of an older snapshot changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from core.db.synthesis import SynthesisRepository
from core.db.tables import CraConsultationRecord, DossierSynthesisRecord
from core.domain.procedure import ConsultationStatus, Outcome, Stage
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
)
from tests.workflows.recording import record_history
from workflows.consultation import CraConsultationWorkflow
from workflows.dossier import DossierWorkflow
from workflows.payloads import EligibilityRecord

Row = tuple[DossierSynthesisRecord | None, list[CraConsultationRecord]]


async def _synthesis(s: Stack, number: int) -> Row:
    async with s.res.db.unit_of_work() as session:
        repo = SynthesisRepository(session)
        return await repo.get(number), await repo.consultations_of(number)


async def _until(s: Stack, number: int, done: Callable[[Row], bool], timeout: float = 20) -> Row:
    row: Row = (None, [])
    for _ in range(int(timeout / 0.1)):
        row = await _synthesis(s, number)
        if done(row):
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"synthesis never reached the expected state: {row}")


async def _details(handle: WorkflowHandle[Any, Any]) -> str:
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    return str(metadata.current_details)


async def test_the_synthesis_follows_the_dossier_and_the_details_name_who_answered(
        time_env: WorkflowEnvironment, ts_stack: Stack) -> None:
    n = await ts_stack.file(0)  # Bretagne, complete
    client = time_env.client
    async with ts_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and s.consultations)
        record, cras = await _until(
            ts_stack, n, lambda r: bool(r[0] and r[1]) and r[0].stage == "admissibility")
        assert record is not None and record.stage == "admissibility"
        assert record.regions == ["53"] and record.filed_at is not None
        assert [(c.region, c.round, c.status, c.invited_at is not None) for c in cras] == [
            ("53", 1, "pending", True)]

        # Day 7: the first reminder. The dossier knows it at once, long before the consultation ends.
        await time_env.sleep(timedelta(days=8))
        status = await wait_for(handle, lambda s: s.consultations[0].reminders_sent == 1)
        assert status.consultations[0].status is ConsultationStatus.PENDING
        assert "| Bretagne | en attente | — | — | 1 |" in await _details(handle)
        await _until(ts_stack, n, lambda r: bool(r[1]) and r[1][0].reminders_sent == 1)

        # The CRA answers, with an appreciation per group of criteria.
        await consultation(client, n, "53").execute_update(
            CraConsultationWorkflow.submit_opinion,
            opinion("cra-53-ess", "favourable_with_reservations",
                    "Ancrage réel ; « gouvernance » à préciser.",
                    appreciations={"vision": "very_good", "results": "fair"}))
        _, cras = await _until(ts_stack, n, lambda r: bool(r[1]) and r[1][0].opinion is not None)
        answer = cras[0]
        assert (answer.status, answer.opinion) == ("answered", "favourable_with_reservations")
        assert answer.motivation == "Ancrage réel ; « gouvernance » à préciser."
        assert answer.appreciations == {"vision": "very_good", "results": "fair"}
        assert answer.author == "Correspondant·e ESS Bretagne (Correspondant régional de l’ESS)"
        assert answer.answered_at is not None and answer.reminders_sent == 1
        await wait_for(handle, lambda s: s.consultations[0].opinion is not None)
        details = await _details(handle)
        assert ("| Bretagne | avis rendu | favorable avec réserves | "
                "Correspondant·e ESS Bretagne (Correspondant régional de l’ESS) | 1 |") in details

        # BESSII: admissibility, eligibility (majority), decision.
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await handle.execute_update(DossierWorkflow.record_eligibility, EligibilityRecord(
            agent=AGENT, assessment=EligibilityAssessment(
                criteria=dict.fromkeys(Criterion, Assessment.MET))))
        record, _ = await _until(ts_stack, n, lambda r: bool(r[0] and r[0].eligibility_majority))
        assert record is not None and record.data["admissibility"]["reason"]
        await wait_for(handle, lambda s: s.stage is Stage.INSTRUCTION)
        await handle.execute_update(DossierWorkflow.record_decision,
                                    decision(Outcome.LAUREAT, "Projet exemplaire."))
        await handle.result()
        await record_history(client, "synthesis", dossier_workflow_id(n),
                             consultation_workflow_id(n, "53"))

    record, cras = await _synthesis(ts_stack, n)
    assert record is not None
    assert (record.stage, record.outcome, record.decided_at is not None) == ("closed", "laureat", True)
    assert record.data["decision"]["motivation"] == "Projet exemplaire."
    assert [(c.status, c.opinion, c.current) for c in cras] == [
        ("answered", "favourable_with_reservations", True)]

    # A retry of an older snapshot arriving after the final one changes nothing.
    from core.domain.synthesis import DossierSynthesis

    async with ts_stack.res.db.unit_of_work() as session:
        stale = DossierSynthesis(version=record.version - 1, regions=["53"])
        assert not await SynthesisRepository(session).save(n, "admissibility", stale)
    after, _ = await _synthesis(ts_stack, n)
    assert after is not None and (after.stage, after.outcome) == ("closed", "laureat")
