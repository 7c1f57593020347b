"""End to end on a real Temporal dev server: filed on the platform stand-in, picked up by the
sync workflow, consulted, decided, notified; emails read back from the SMTP sink."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from core.domain.procedure import Outcome, Stage
from core.ids import consultation_workflow_id, dossier_workflow_id, sync_workflow_id
from tests.support import Stack
from tests.workflows.helpers import admissible, consultation, decision, opinion, wait_for
from tests.workflows.recording import record_history
from workflows import search_attributes as sa
from workflows.consultation import CraConsultationWorkflow
from workflows.dossier import DossierWorkflow
from workflows.sync import DemarcheSyncWorkflow, SyncInput


async def _wait_for_workflow(client: Client, workflow_id: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        try:
            await client.get_workflow_handle(workflow_id).describe()
            return
        except Exception:  # not found yet
            await asyncio.sleep(0.2)
    raise AssertionError(f"{workflow_id} never started")


async def test_filed_dossier_travels_the_whole_path(dev_env: WorkflowEnvironment,
                                                    dev_stack: Stack) -> None:
    client = dev_env.client
    number = await dev_stack.file(1)  # Occitanie + Nouvelle-Aquitaine: two CRAs in parallel
    async with dev_stack.worker(client) as worker:
        sync = await client.start_workflow(
            DemarcheSyncWorkflow.run, SyncInput(demarche=1001, interval=timedelta(seconds=1)),
            id=sync_workflow_id(1001) + "-" + worker.task_queue, task_queue=worker.task_queue)
        await _wait_for_workflow(client, dossier_workflow_id(number))
        handle = client.get_workflow_handle_for(DossierWorkflow.run, dossier_workflow_id(number))
        status = await wait_for(
            handle, lambda s: s.stage is Stage.ADMISSIBILITY and len(s.consultations) == 2)
        assert {c.region for c in status.consultations} == {"76", "75"}

        described = await handle.describe()
        attrs = described.typed_search_attributes
        assert attrs.get(sa.DOSSIER_NUMBER) == number
        assert attrs.get(sa.STAGE) == "admissibility"
        assert sorted(attrs.get(sa.REGIONS) or []) == ["75", "76"]
        assert sorted(attrs.get(sa.CRA_PENDING) or []) == ["75", "76"]

        for region in ("76", "75"):
            await consultation(client, number, region).execute_update(
                CraConsultationWorkflow.submit_opinion, opinion(f"cra-{region}-cress"))
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await wait_for(handle, lambda s: s.stage is Stage.INSTRUCTION
                       and all(c.opinion for c in s.consultations))
        await handle.execute_update(DossierWorkflow.record_decision,
                                    decision(Outcome.LAUREAT, "Projet retenu."))
        result = await handle.result()
        await record_history(client, "end-to-end", handle.id,
                             consultation_workflow_id(number, "76"),
                             consultation_workflow_id(number, "75"))
        await sync.terminate("test over")

    assert result.outcome is Outcome.LAUREAT
    assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED
    assert (await dev_stack.dossier(number))["state"] == "accepte"
    referent = "inaki@vallees-solidaires.example"
    subjects = sorted(m["subject"] for m in await dev_stack.emails(to=referent))
    assert subjects == [f"Décision sur votre candidature n° {number} – AMI PTCE"]
    # The rest of the news is the platform's own: its acknowledgement, its "en instruction".
    assert [e["kind"] for e in await dev_stack.platform_emails(number)] == [
        "en_construction", "en_instruction"]
    invited = {r for m in await dev_stack.emails(subject="demandé") for r in m["to"]}
    assert invited == {"ess.76@cra.localhost", "cress.76@cra.localhost",
                       "ess.75@cra.localhost", "cress.75@cra.localhost"}
    # Each email once: keys are unique and the sink holds as many messages as keys.
    keys = await dev_stack.sent_keys(number)
    assert len(keys) == len(set(keys)) == len(await dev_stack.emails())


async def test_the_intake_polls_wakes_on_the_webhook_and_continues_as_new(
        dev_env: WorkflowEnvironment, dev_stack: Stack) -> None:
    """The démarche's sync workflow, always in flight at a deploy: polls, a ``sync_now``
    between two polls, a new run after its polls (what the replay gate keeps of it)."""
    client = dev_env.client
    async with dev_stack.worker(client) as worker:
        sync = await client.start_workflow(
            DemarcheSyncWorkflow.run, SyncInput(demarche=1001, interval=timedelta(minutes=10),
                                                polls_per_run=2),
            id=sync_workflow_id(1001) + "-" + worker.task_queue, task_queue=worker.task_queue)
        first = sync.result_run_id
        assert first is not None

        async def polls() -> int:
            done = 0
            async for e in client.get_workflow_handle(sync.id, run_id=first
                                                      ).fetch_history_events():
                done += e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
            return done

        for poll in (1, 2):  # each poll done, the run waits out its interval: wake it
            for _ in range(150):
                if await polls() == poll:
                    break
                await asyncio.sleep(0.2)
            await sync.signal(DemarcheSyncWorkflow.sync_now)  # the webhook: poll now
        for _ in range(150):
            if (await sync.describe()).run_id != first:
                break
            await asyncio.sleep(0.2)
        assert (await sync.describe()).run_id != first  # continued as new after two polls
        await record_history(client, "polled-woken-continued", sync.id, run_id=first)
        await sync.terminate("test over")
