"""Dossiers through the service's real path (the intake's polls, the workflow, the platform
stand-in faithful to the platform's source) where the platform does what it really does: the
applicant deletes (hides) and restores a dossier, our own correction message echoes back, an
applicant submits changes that do not fix the list, the platform sends its own emails.
Time-skipping server: weeks pass in seconds.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.intake import IntakeActivities, SyncReport
from activities.platform.client import DsClient
from core.db.tables import SentEmail
from core.domain.policy import Policy
from core.domain.procedure import Outcome, Stage
from core.ids import dossier_workflow_id
from core.mapping import load_mapping
from tests.support import FAST_POLICY, TOKEN, Stack
from tests.workflows.helpers import admissible, consultation, decision, opinion, wait_for
from tests.workflows.recording import record_history
from workflows.consultation import CraConsultationWorkflow
from workflows.dossier import DossierWorkflow
from workflows.payloads import DossierStatus

INCOMPLETE = 2  # demo sample: statutes missing, governance too long
QNI = "samir.benali@qni.example"
TWO_REMINDERS = FAST_POLICY.model_copy(update={
    "correction_reminders": [timedelta(days=10), timedelta(days=20)]})
# What each email tells the applicant: the platform's (by kind) and ours (by template).
NEWS = {"en_construction": "receipt", "acknowledgement": "receipt",
        "pending_correction": "correction", "correction_request": "correction",
        "en_instruction": "instruction", "correction_reminder": "reminder",
        "accepte": "decision", "refuse": "decision", "sans_suite": "decision",
        "decision_applicant": "decision"}


class Platform:
    """The intake's polls (as the sync workflow runs them) and the applicant's actions."""

    def __init__(self, s: Stack, client: Client, task_queue: str,
                 policy: Policy = FAST_POLICY) -> None:
        ds = DsClient(s.res.http, s.settings.platform.graphql_url, TOKEN)
        self.stack = s
        self.intake = IntakeActivities(ds, client, s.res.db, task_queue, policy, load_mapping())

    async def poll(self) -> SyncReport:
        report: SyncReport = await ActivityEnvironment().run(self.intake.sync_demarche, 1001)
        return report

    async def delete(self, number: int) -> None:
        (await self.stack.platform.delete(f"/_standin/dossiers/{number}")).raise_for_status()

    async def restore(self, number: int) -> None:
        (await self.stack.platform.post(f"/_standin/dossiers/{number}/restore")).raise_for_status()

    async def news(self, number: int, to: str) -> Counter[str]:
        """Every piece of news the applicant got, from the platform and from us."""
        got = [NEWS[e["kind"]] for e in await self.stack.platform_emails(number)
               if e["to"] == to]
        async with self.stack.res.db.unit_of_work() as session:
            ours = await session.scalars(select(SentEmail.template)
                                         .where(SentEmail.dossier_number == number))
            got += [NEWS[t] for t in ours if t in NEWS]
        return Counter(got)


def steps(status: DossierStatus) -> list[str]:
    return [s.what for s in status.steps]


async def started(client: Client, number: int) -> WorkflowHandle[DossierWorkflow, Any]:
    handle = client.get_workflow_handle_for(DossierWorkflow.run, dossier_workflow_id(number))
    await wait_for(handle, lambda s: s.dossier is not None)
    return handle


async def test_a_dossier_deleted_during_its_correction_ends_withdrawn_without_reminders(
        time_env: WorkflowEnvironment, ts_stack: Stack) -> None:
    n = await ts_stack.file(INCOMPLETE)
    async with ts_stack.worker(time_env.client) as worker:
        platform = Platform(ts_stack, time_env.client, worker.task_queue)
        await platform.poll()
        handle = await started(time_env.client, n)
        await wait_for(handle, lambda s: "Demande de correction envoyée" in steps(s))

        await platform.delete(n)  # the applicant withdraws: the platform hides the dossier
        assert (await platform.poll()).hidden == 1
        status = await wait_for(handle, lambda s: any("supprimé par le porteur" in w
                                                      for w in steps(s)))
        assert status.stage is Stage.AWAITING_CORRECTION
        await time_env.sleep(timedelta(days=15))  # past the 14-day restore window
        result = await handle.result()
        await record_history(time_env.client, "withdrawn-hidden", dossier_workflow_id(n))

    assert result.outcome is None and "retiré" in result.motivation
    assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED
    # Nothing after the deletion: no reminder (day 14 fell in the window), no decision.
    assert await platform.news(n, QNI) == Counter({"receipt": 1, "correction": 1})
    assert await ts_stack.mutations(n) == ["dossierEnvoyerMessage"]
    record = await ts_stack.record(n)
    assert record is not None and record.stage == "closed" and record.details["withdrawn"]


async def test_a_deleted_dossier_restored_in_time_goes_on_where_it_was(
        time_env: WorkflowEnvironment, ts_stack: Stack) -> None:
    n = await ts_stack.file(INCOMPLETE)
    async with ts_stack.worker(time_env.client) as worker:
        platform = Platform(ts_stack, time_env.client, worker.task_queue)
        await platform.poll()
        handle = await started(time_env.client, n)
        await wait_for(handle, lambda s: "Demande de correction envoyée" in steps(s))
        await platform.delete(n)
        await platform.poll()
        await wait_for(handle, lambda s: any("supprimé par le porteur" in w for w in steps(s)))
        await time_env.sleep(timedelta(days=3))

        await platform.restore(n)
        assert (await platform.poll()).dispatched == 1
        status = await wait_for(handle, lambda s: any("restauré" in w for w in steps(s)))
        assert status.stage is Stage.AWAITING_CORRECTION  # still the same correction round
        await asyncio.sleep(1.1)  # the platform dates changes to the second
        await ts_stack.edit(n, statutes=["statuts.pdf"], governance="Collège unique.")
        await platform.poll()
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and bool(s.consultations))
        await handle.execute_update(DossierWorkflow.confirm_admissibility,
                                    admissible(False, "Fin du test."))
        await handle.result()
        await record_history(time_env.client, "restored", dossier_workflow_id(n))

    assert await ts_stack.mutations(n) == ["dossierEnvoyerMessage", "dossierPasserEnInstruction",
                                           "dossierModifierAnnotations", "dossierClasserSansSuite"]


async def test_one_correction_per_round_and_no_news_twice(
        time_env: WorkflowEnvironment, ts_stack: Stack) -> None:
    """The echo of our own message changes nothing; changes that do not fix the list start a
    second round (the first was resolved by the applicant's submit): one request each, each
    round its own reminders; then BESSII decides. The applicant never gets the same news twice
    (the platform's emails and ours counted together)."""
    n = await ts_stack.file(INCOMPLETE)
    client = time_env.client
    async with ts_stack.worker(client) as worker:
        platform = Platform(ts_stack, client, worker.task_queue, TWO_REMINDERS)
        await platform.poll()
        handle = await started(client, n)
        await wait_for(handle, lambda s: "Demande de correction envoyée" in steps(s))

        assert (await platform.poll()).dispatched == 1  # the echo of the correction message
        await _until(lambda: _reads(handle), 2)  # re-read...
        status = await handle.query(DossierWorkflow.status)
        assert steps(status).count("Demande de correction envoyée") == 1  # ...and nothing else
        assert "Dossier modifié par le porteur de projet" not in steps(status)

        await time_env.sleep(timedelta(days=11))  # round 1's reminder (day 10)
        await ts_stack.edit(n, referent_role="Présidente")  # submitted, nothing fixed
        await platform.poll()
        await wait_for(handle, lambda s: steps(s).count("Demande de correction envoyée") == 2)
        await time_env.sleep(timedelta(days=10))  # round 2's reminder (day 20)
        await asyncio.sleep(1.1)
        await ts_stack.edit(n, statutes=["statuts.pdf"], governance="Collège unique.")
        await platform.poll()
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and bool(s.consultations))
        await consultation(client, n, "93").execute_update(
            CraConsultationWorkflow.submit_opinion, opinion("cra-93-ess"))
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await wait_for(handle, lambda s: s.stage is Stage.INSTRUCTION
                       and all(c.opinion for c in s.consultations))
        await handle.execute_update(DossierWorkflow.record_decision, decision(Outcome.LAUREAT))
        await handle.result()
        await record_history(client, "correction-rounds", dossier_workflow_id(n))

    assert await platform.news(n, QNI) == Counter({
        "receipt": 1, "correction": 2, "reminder": 2, "instruction": 1, "decision": 1})
    keys = sorted(k.split(":", 1)[1] for k in await ts_stack.sent_keys(n) if "reminder" in k)
    assert keys == ["correction-reminder-r1-1", "correction-reminder-r2-2"]
    assert (await ts_stack.mutations(n))[:3] == [
        "dossierEnvoyerMessage", "dossierEnvoyerMessage", "dossierPasserEnInstruction"]


async def _reads(handle: WorkflowHandle[DossierWorkflow, Any]) -> int:
    """The dossier's completed reads from the platform, each ending with its snapshot stored
    (a row only for a new version, and the platform dates versions to the second: counting
    rows would miss an echo in the second of the filing)."""
    snapshots: set[int] = set()
    done = 0
    async for event in handle.fetch_history_events():
        if event.activity_task_scheduled_event_attributes.activity_type.name == "store_snapshot":
            snapshots.add(event.event_id)
        done += event.activity_task_completed_event_attributes.scheduled_event_id in snapshots
    return done


async def _until(count: Any, wanted: int) -> None:
    for _ in range(300):
        if await count() >= wanted:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never reached {wanted}")
