"""`find_stuck` on a real dev server, each reason on a case made for it: a consultation
deadline passed without progress, an activity retrying against an unreachable platform, a
decision waiting too long, and a workflow task failing (a bug shipped in a workflow)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from api.admin.activities import retry_activity
from api.admin.stuck import StuckCase, StuckKind, find_stuck
from api.cli.worker import build_worker
from core.domain.policy import Policy
from core.domain.procedure import ConsultationStatus, Stage
from core.ids import DOSSIER_WORKFLOW, dossier_workflow_id
from tests.support import Stack
from tests.workflows.helpers import AGENT, wait_for
from workflows.dossier import DossierWorkflow
from workflows.payloads import AdmissibilityDecision, DossierInput

SHORT = Policy(cra_deadline=timedelta(seconds=2), cra_reminders=[],
               cra_final_reminder_before=timedelta(0))


async def _stuck(env: WorkflowEnvironment, workflow_id: str, kind: StuckKind,
                 timeout: float = 90.0, decision_after: timedelta = timedelta(days=14)
                 ) -> StuckCase:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for case in await find_stuck(env.client, datetime.now(UTC), decision_after):
            if case.workflow_id == workflow_id and any(r.kind is kind for r in case.reasons):
                return case
        await asyncio.sleep(0.5)
    raise AssertionError(f"{workflow_id} never listed as {kind}")


async def test_a_passed_deadline_and_a_retrying_activity_are_listed(
        dev_env: WorkflowEnvironment, dev_stack: Stack) -> None:
    client = dev_env.client
    late = await dev_stack.file(0)
    async with dev_stack.worker(client) as worker:
        handle = await client.start_workflow(
            DossierWorkflow.run, DossierInput(number=late, demarche=1001, policy=SHORT),
            id=dossier_workflow_id(late), task_queue=worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and s.consultations
                       and s.consultations[0].status is ConsultationStatus.NO_RESPONSE)
        case = await _stuck(dev_env, dossier_workflow_id(late), StuckKind.DEADLINE_PASSED)
        assert case.number == late and case.stage == "admissibility"
        await handle.terminate("test over")

    broken = await dev_stack.file(0)
    dev_stack.res.http = httpx.AsyncClient(base_url="http://127.0.0.1:9")  # nothing listens
    async with dev_stack.worker(client) as worker:
        handle = await client.start_workflow(
            DossierWorkflow.run, DossierInput(number=broken, demarche=1001, policy=SHORT),
            id=dossier_workflow_id(broken), task_queue=worker.task_queue)
        case = await _stuck(dev_env, dossier_workflow_id(broken), StuckKind.ACTIVITY_RETRYING)
        await handle.terminate("test over")
    await dev_stack.res.http.aclose()

    retrying = next(r for r in case.reasons if r.kind is StuckKind.ACTIVITY_RETRYING)
    assert "tentative" in retrying.detail and "dernière erreur" in retrying.detail


async def test_a_retrying_activity_is_retried_at_once_once_the_cause_is_fixed(
        dev_env: WorkflowEnvironment, dev_stack: Stack) -> None:
    client = dev_env.client
    number = await dev_stack.file(0)
    queue, good = f"tq-retry-{number}", dev_stack.res.http
    dev_stack.res.http = httpx.AsyncClient(base_url="http://127.0.0.1:9")  # an outage
    async with build_worker(client, dev_stack.settings, dev_stack.res, task_queue=queue):
        handle = await client.start_workflow(
            DossierWorkflow.run, DossierInput(number=number, demarche=1001, policy=SHORT),
            id=dossier_workflow_id(number), task_queue=queue)
        await _stuck(dev_env, handle.id, StuckKind.ACTIVITY_RETRYING)
        while (await _attempt(dev_env, handle.id)) < 3:  # backing off: the next retry is seconds away
            await asyncio.sleep(0.2)
        next_retry = await _next_retry(dev_env, handle.id)
    await dev_stack.res.http.aclose()
    dev_stack.res.http = good  # the outage is over
    async with build_worker(client, dev_stack.settings, dev_stack.res, task_queue=queue):
        retried = await retry_activity(client, handle.id, None, "ada@admin")
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY, timeout=6)
        progressed = datetime.now(UTC)
        await handle.terminate("test over")
    assert retried == ["platform_fetch_dossier"]
    assert progressed < next_retry  # not the scheduled retry: the admin's one


async def _attempt(env: WorkflowEnvironment, workflow_id: str) -> int:
    described = await env.client.get_workflow_handle(workflow_id).describe()
    return max((a.attempt for a in described.raw_description.pending_activities), default=0)


async def _next_retry(env: WorkflowEnvironment, workflow_id: str) -> datetime:
    described = await env.client.get_workflow_handle(workflow_id).describe()
    [activity] = described.raw_description.pending_activities
    return activity.next_attempt_schedule_time.ToDatetime(tzinfo=UTC)


async def test_a_decision_waiting_too_long_is_listed(dev_env: WorkflowEnvironment,
                                                     dev_stack: Stack) -> None:
    client = dev_env.client
    number = await dev_stack.file(0)
    workflow_id = dossier_workflow_id(number)
    async with dev_stack.worker(client) as worker:
        handle = await client.start_workflow(
            DossierWorkflow.run, DossierInput(number=number, demarche=1001, policy=SHORT),
            id=workflow_id, task_queue=worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and s.consultations)
        await handle.execute_update(DossierWorkflow.confirm_admissibility, AdmissibilityDecision(
            agent=AGENT, admissible=True, reason="Dossier complet."))
        await wait_for(handle, lambda s: s.stage is Stage.INSTRUCTION
                       and s.consultations[0].status is ConsultationStatus.NO_RESPONSE)
        # Within the allowance after the consultation's end: only "deadline passed".
        early = await _stuck(dev_env, workflow_id, StuckKind.DEADLINE_PASSED)
        assert [r.kind for r in early.reasons] == [StuckKind.DEADLINE_PASSED]
        # Past it: BESSII's decision waits too long.
        late = await _stuck(dev_env, workflow_id, StuckKind.DECISION_WAITING,
                            decision_after=timedelta(seconds=1))
        await handle.terminate("test over")

    assert late.stage == "instruction" and late.number == number
    [reason] = late.reasons
    assert reason.detail.startswith("décision attendue depuis le ")


@workflow.defn(name=DOSSIER_WORKFLOW)
class BrokenDossierWorkflow:
    """A bug shipped in the dossier workflow: every workflow task raises. A plain exception
    fails the workflow *task* (retried by the server), not the workflow: the dossier hangs."""

    @workflow.run
    async def run(self, input: DossierInput) -> None:
        raise RuntimeError(f"bug in this deploy (dossier {input.number})")


async def test_a_failing_workflow_task_is_listed(dev_env: WorkflowEnvironment,
                                                 dev_stack: Stack) -> None:
    client = dev_env.client
    number = await dev_stack.file(0)
    queue = f"tq-broken-{uuid.uuid4()}"
    # Unsandboxed: the sandbox would re-import this test module.
    async with Worker(client, task_queue=queue, workflows=[BrokenDossierWorkflow],
                      workflow_runner=UnsandboxedWorkflowRunner()):
        handle = await client.start_workflow(
            DOSSIER_WORKFLOW, DossierInput(number=number, demarche=1001, policy=SHORT),
            id=dossier_workflow_id(number), task_queue=queue)
        case = await _stuck(dev_env, handle.id, StuckKind.WORKFLOW_TASK_FAILING)
        await handle.terminate("test over")

    assert case.workflow_type == DOSSIER_WORKFLOW
    failing = next(r for r in case.reasons if r.kind is StuckKind.WORKFLOW_TASK_FAILING)
    assert failing.detail.startswith("tâche de workflow en échec (tentative ")
