"""`find_stuck` on a real dev server, each reason on a case made for it: a consultation
deadline passed without progress, an activity retrying against an unreachable platform, a
decision waiting too long, and a workflow task failing (a bug shipped in a workflow)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from api.admin.activities import retry_activity
from api.admin.stuck import StuckCase, StuckKind, find_stuck
from api.cli.worker import build_worker
from core.domain.policy import Policy
from core.domain.procedure import ConsultationStatus, Stage
from core.ids import (
    CONSULTATION_WORKFLOW,
    DOSSIER_WORKFLOW,
    SYNC_WORKFLOW,
    consultation_workflow_id,
    dossier_workflow_id,
    sync_workflow_id,
)
from tests.support import Stack
from tests.workflows.helpers import AGENT, wait_for
from workflows import search_attributes as sa
from workflows.dossier import DossierWorkflow
from workflows.payloads import AdmissibilityDecision, DossierInput
from workflows.sync import DemarcheSyncWorkflow, SyncInput

SHORT = Policy(cra_deadline=timedelta(seconds=2), cra_reminders=[],
               cra_final_reminder_before=timedelta(0))


async def _stuck(env: WorkflowEnvironment, workflow_id: str, kind: StuckKind,
                 timeout: float = 90.0, decision_after: timedelta = timedelta(days=14)
                 ) -> StuckCase:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        # Only this test's execution: the shared dev server holds every other test's too.
        for case in await find_stuck(env.client, datetime.now(UTC), decision_after,
                                     within=f"WorkflowId = '{workflow_id}'"):
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


@workflow.defn(name=DOSSIER_WORKFLOW)
class FailingDossierWorkflow:
    """A dossier run that fails outright (what the blocking rule prevents in the real code)."""

    @workflow.run
    async def run(self, input: DossierInput) -> None:
        raise ApplicationError(f"refusé (dossier {input.number})", non_retryable=True)


def _unique() -> int:
    return 900_000_000 + uuid.uuid4().int % 99_999_999


async def _listed(env: WorkflowEnvironment, predicate: Any, timeout: float = 30.0,
                  **options: Any) -> dict[str, StuckCase]:
    """``find_stuck`` until ``predicate(cases by id)`` holds (visibility lags a little)."""
    deadline = asyncio.get_running_loop().time() + timeout
    cases: dict[str, StuckCase] = {}
    while asyncio.get_running_loop().time() < deadline:
        cases = {c.workflow_id: c for c in await find_stuck(env.client, datetime.now(UTC),
                                                             **options)}
        if predicate(cases):
            return cases
        await asyncio.sleep(0.3)
    raise AssertionError(f"not listed as expected: {sorted(cases)}")


def _kinds(case: StuckCase | None) -> set[StuckKind]:
    return {r.kind for r in case.reasons} if case else set()


async def test_runs_that_ended_failed_timed_out_or_terminated_are_listed_until_superseded(
        dev_env: WorkflowEnvironment) -> None:
    client = dev_env.client
    failed, timed_out, terminated = (dossier_workflow_id(_unique()) for _ in range(3))
    consultation = consultation_workflow_id(_unique(), "53")
    queue = f"tq-failing-{uuid.uuid4()}"
    idle = f"idle-{uuid.uuid4()}"
    async with Worker(client, task_queue=queue, workflows=[FailingDossierWorkflow],
                      workflow_runner=UnsandboxedWorkflowRunner()):
        handle = await client.start_workflow(
            DOSSIER_WORKFLOW, DossierInput(number=1, demarche=1001, policy=SHORT),
            id=failed, task_queue=queue)
        with pytest.raises(WorkflowFailureError):
            await handle.result()
    await client.start_workflow(DOSSIER_WORKFLOW, DossierInput(number=2, demarche=1001),
                                id=timed_out, task_queue=idle,
                                execution_timeout=timedelta(seconds=1))
    first = await client.start_workflow(DOSSIER_WORKFLOW, DossierInput(number=3, demarche=1001),
                                        id=terminated, task_queue=idle)
    await first.terminate("test: stopped by hand")
    ended = await client.start_workflow(CONSULTATION_WORKFLOW, id=consultation, task_queue=idle)
    await ended.terminate("test: closed without opinion")

    cases = await _listed(dev_env, lambda c: all(
        StuckKind.ENDED_ABNORMALLY in _kinds(c.get(w)) for w in (failed, timed_out, terminated)))
    details = {w: cases[w].reasons[0].detail for w in (failed, timed_out, terminated)}
    assert details[failed].startswith("exécution en échec (Failed) le ")
    assert details[timed_out].startswith("exécution hors délai (TimedOut) le ")
    assert details[terminated].startswith("exécution arrêtée de force (Terminated) le ")
    assert consultation not in cases  # a terminated consultation: closed without opinion

    # A newer run of the same dossier (a reset, a restart) supersedes the terminated one.
    second = await client.start_workflow(DOSSIER_WORKFLOW, DossierInput(number=3, demarche=1001),
                                         id=terminated, task_queue=idle)
    await _listed(dev_env, lambda c: terminated not in c and failed in c)
    await second.terminate("test over")


async def test_the_intake_is_listed_when_it_retries_when_it_ended_and_when_none_runs(
        dev_env: WorkflowEnvironment, dev_stack: Stack) -> None:
    client = dev_env.client
    retrying, ended, missing = _unique(), _unique(), _unique()
    dev_stack.res.http = httpx.AsyncClient(base_url="http://127.0.0.1:9")  # nothing listens
    async with dev_stack.worker(client) as worker:
        handle = await client.start_workflow(
            DemarcheSyncWorkflow.run, SyncInput(demarche=retrying),
            id=sync_workflow_id(retrying), task_queue=worker.task_queue)
        stopped = await client.start_workflow(
            DemarcheSyncWorkflow.run, SyncInput(demarche=ended),
            id=sync_workflow_id(ended), task_queue=f"idle-{uuid.uuid4()}")
        await stopped.terminate("test: the intake stopped")
        cases = await _listed(dev_env, lambda c: (
            StuckKind.ACTIVITY_RETRYING in _kinds(c.get(handle.id))
            and StuckKind.ENDED_ABNORMALLY in _kinds(c.get(stopped.id))),
            demarches=[retrying, ended, missing])
        await handle.terminate("test over")

    assert cases[handle.id].workflow_type == SYNC_WORKFLOW
    assert any(r.detail.startswith("intake_sync_demarche : tentative ")
               for r in cases[handle.id].reasons)
    assert _kinds(cases[stopped.id]) == {StuckKind.ENDED_ABNORMALLY, StuckKind.INTAKE_MISSING}
    [reason] = cases[sync_workflow_id(missing)].reasons
    assert reason.kind is StuckKind.INTAKE_MISSING
    assert reason.detail.startswith(f"aucune synchronisation en cours pour la démarche {missing}")


async def test_every_page_of_visibility_is_read(dev_env: WorkflowEnvironment) -> None:
    """More stuck cases than one page holds: all listed (pages of 2 here, 1,000 in service)."""
    client = dev_env.client
    past = datetime.now(UTC) - timedelta(days=3)
    ids = [dossier_workflow_id(_unique()) for _ in range(7)]
    idle = f"idle-{uuid.uuid4()}"
    for workflow_id in ids:
        await client.start_workflow(
            DOSSIER_WORKFLOW, DossierInput(number=1, demarche=1001), id=workflow_id,
            task_queue=idle, search_attributes=TypedSearchAttributes([
                SearchAttributePair(sa.STAGE, Stage.ADMISSIBILITY.value),
                SearchAttributePair(sa.STAGE_DEADLINE, past)]))
    try:
        cases = await _listed(dev_env, lambda c: set(ids) <= set(c), page_size=2)
        assert all(_kinds(cases[w]) == {StuckKind.DEADLINE_PASSED} for w in ids)
    finally:
        for workflow_id in ids:
            await client.get_workflow_handle(workflow_id).terminate("test over")
