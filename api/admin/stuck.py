"""Stuck dossiers: what visibility and ``describe`` tell about each case.

A case is stuck when its stage deadline passed without progress, when an activity keeps
retrying (or is paused), when its workflow task keeps failing (non-determinism after a bad
deploy, a bug), when BESSII's decision waits too long, when it is parked on a block, or when its
latest run ended Failed, TimedOut or Terminated (a dossier or the intake: nothing will carry it
on; a consultation ended so counts as closed without opinion, unless it Failed or TimedOut).
The intake of each configured démarche (``DemarcheSyncWorkflow``) is looked at the same way, and
listed when none runs. Visibility is read page by page to the end: no cap on the number.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field
from temporalio.api.failure.v1 import Failure
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from api.errors import Unavailable
from core.domain.admin import Block
from core.domain.procedure import Stage
from core.ids import CONSULTATION_WORKFLOW, DOSSIER_WORKFLOW, SYNC_WORKFLOW, sync_workflow_id
from workflows import search_attributes as sa

_TYPES = f"'{DOSSIER_WORKFLOW}', '{CONSULTATION_WORKFLOW}', '{SYNC_WORKFLOW}'"
QUERY = f"ExecutionStatus = 'Running' AND WorkflowType IN ({_TYPES})"
# Runs that ended without finishing their work. A terminated consultation is a documented
# admin action (closed without opinion, the dossier goes on): not listed.
ENDED_QUERY = (
    f"(ExecutionStatus IN ('Failed', 'TimedOut', 'Terminated') AND WorkflowType IN "
    f"('{DOSSIER_WORKFLOW}', '{SYNC_WORKFLOW}')) OR (ExecutionStatus IN ('Failed', 'TimedOut') "
    f"AND WorkflowType = '{CONSULTATION_WORKFLOW}')")
PAGE_SIZE = 1000
_ENDED = {WorkflowExecutionStatus.FAILED: "en échec (Failed)",
          WorkflowExecutionStatus.TIMED_OUT: "hors délai (TimedOut)",
          WorkflowExecutionStatus.TERMINATED: "arrêtée de force (Terminated)"}
# Describes run side by side (each is one frontend round trip): a sweep of a thousand running
# cases takes seconds, not minutes.
CONCURRENCY = 16
# A block's text comes from a query, which waits for a worker: a case whose worker is gone
# keeps the step named by its search attribute rather than hold up the whole list.
BLOCKS_QUERY_TIMEOUT = timedelta(seconds=5)


class StuckKind(StrEnum):
    DEADLINE_PASSED = "deadline_passed"
    ACTIVITY_RETRYING = "activity_retrying"
    ACTIVITY_PAUSED = "activity_paused"
    WORKFLOW_TASK_FAILING = "workflow_task_failing"
    DECISION_WAITING = "decision_waiting"
    BLOCKED = "blocked"  # parked after a failure retrying cannot cure: ``ptce admin resume``
    ENDED_ABNORMALLY = "ended_abnormally"  # latest run Failed, TimedOut or Terminated
    INTAKE_MISSING = "intake_missing"  # no DemarcheSyncWorkflow running for a démarche


class StuckReason(BaseModel):
    kind: StuckKind
    detail: str


class StuckCase(BaseModel):
    workflow_id: str
    workflow_type: str
    number: int | None = None
    stage: str | None = None
    stage_deadline: datetime | None = None
    reasons: list[StuckReason] = Field(default_factory=list)


def _from_visibility(execution: WorkflowExecution, now: datetime,
                     decision_after: timedelta) -> StuckCase:
    attrs = execution.typed_search_attributes
    stage, deadline = attrs.get(sa.STAGE), attrs.get(sa.STAGE_DEADLINE)
    case = StuckCase(workflow_id=execution.id, workflow_type=execution.workflow_type,
                     number=attrs.get(sa.DOSSIER_NUMBER), stage=stage, stage_deadline=deadline)
    blocked = attrs.get(sa.BLOCKED_STEP)
    if blocked:
        case.reasons.append(StuckReason(kind=StuckKind.BLOCKED, detail=f"bloqué à l’étape {blocked}"))
    if deadline is not None and deadline < now and stage not in (Stage.NOTIFICATION, Stage.CLOSED):
        if stage == Stage.INSTRUCTION and deadline + decision_after < now:
            case.reasons.append(StuckReason(
                kind=StuckKind.DECISION_WAITING,
                detail=f"décision attendue depuis le {deadline:%d/%m/%Y}"))
        else:
            case.reasons.append(StuckReason(
                kind=StuckKind.DEADLINE_PASSED,
                detail=f"étape « {stage} » échue le {deadline:%d/%m/%Y %H:%M} UTC"))
    return case


async def last_error(client: Client, failure: Failure) -> str:
    """The failure's message: encrypted in the history since issue 15 (``encoded_attributes``),
    decrypted here with the service's codec for the admin who reads it."""
    if not failure.HasField("encoded_attributes"):
        return failure.message
    try:
        decoded = await client.data_converter.decode_failure(failure)
    except Exception:  # a key we no longer hold: say so rather than fail the whole list
        return "message chiffré illisible avec les clés configurées"
    return str(getattr(decoded, "message", None) or decoded)


async def _add_task_state(client: Client, case: StuckCase) -> None:
    try:
        described = await client.get_workflow_handle(case.workflow_id).describe()
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:  # ended meanwhile
            return
        raise
    if any(r.kind is StuckKind.BLOCKED for r in case.reasons):
        await _add_blocks(client, case)
    description = described.raw_description
    for activity in description.pending_activities:
        name = activity.activity_type.name
        if activity.paused:
            case.reasons.append(StuckReason(kind=StuckKind.ACTIVITY_PAUSED,
                                            detail=f"{name} en pause"))
        elif activity.attempt > 1:
            error = await last_error(client, activity.last_failure) or "erreur inconnue"
            case.reasons.append(StuckReason(
                kind=StuckKind.ACTIVITY_RETRYING,
                detail=f"{name} : tentative {activity.attempt}, dernière erreur : {error}"))
    task = description.pending_workflow_task
    if description.HasField("pending_workflow_task") and task.attempt > 1:
        case.reasons.append(StuckReason(
            kind=StuckKind.WORKFLOW_TASK_FAILING,
            detail=f"tâche de workflow en échec (tentative {task.attempt})"))


async def _add_blocks(client: Client, case: StuckCase) -> None:
    """What each block says (needs a worker: the search attribute alone names the step)."""
    try:
        blocks = await client.get_workflow_handle(case.workflow_id).query(
            "blocks", result_type=list[Block], rpc_timeout=BLOCKS_QUERY_TIMEOUT)
    except (RPCError, WorkflowQueryFailedError):
        return
    case.reasons = [r for r in case.reasons if r.kind is not StuckKind.BLOCKED]
    case.reasons[:0] = [StuckReason(kind=StuckKind.BLOCKED, detail=(
        f"bloc {b.id} : {b.label} — {b.message} (depuis le {b.since:%d/%m/%Y %H:%M} UTC)"))
        for b in blocks]


async def _ended_case(client: Client, execution: WorkflowExecution) -> StuckCase | None:
    """A run that ended abnormally, when it is still the workflow's latest (a reset, or the
    intake started again by a worker, supersedes it)."""
    try:
        latest = await client.get_workflow_handle(execution.id).describe()
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return None
        raise
    if latest.run_id != execution.run_id or execution.status not in _ENDED:
        return None
    attrs = execution.typed_search_attributes
    closed = f" le {execution.close_time:%d/%m/%Y %H:%M} UTC" if execution.close_time else ""
    return StuckCase(workflow_id=execution.id, workflow_type=execution.workflow_type,
                     number=attrs.get(sa.DOSSIER_NUMBER), stage=attrs.get(sa.STAGE),
                     stage_deadline=attrs.get(sa.STAGE_DEADLINE), reasons=[StuckReason(
                         kind=StuckKind.ENDED_ABNORMALLY,
                         detail=f"exécution {_ENDED[execution.status]}{closed}")])


async def _intake_running(client: Client, demarche: int) -> bool:
    try:
        described = await client.get_workflow_handle(sync_workflow_id(demarche)).describe()
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return False
        raise
    return described.status is WorkflowExecutionStatus.RUNNING


async def find_stuck(client: Client, now: datetime,
                     decision_after: timedelta = timedelta(days=14),
                     demarches: Sequence[int] = (), page_size: int = PAGE_SIZE,
                     within: str = "") -> list[StuckCase]:
    """Every dossier, consultation or intake with at least one reason to look at it: the
    running ones (in the order visibility lists them), the runs that ended abnormally, and
    each démarche whose intake is not running. Every page of visibility is read
    (``page_size`` per call), the describes ``CONCURRENCY`` at a time. ``within``: a visibility
    query the executions must also match (one dossier: ``WorkflowId = 'dossier-12'``)."""
    gate = asyncio.Semaphore(CONCURRENCY)
    also = f" AND ({within})" if within else ""

    async def described(case: StuckCase) -> StuckCase:
        async with gate:
            await _add_task_state(client, case)
        return case

    async def ended(execution: WorkflowExecution) -> StuckCase | None:
        async with gate:
            return await _ended_case(client, execution)

    try:
        running = [_from_visibility(execution, now, decision_after)
                   async for execution in client.list_workflows(QUERY + also,
                                                                page_size=page_size)]
        stuck = {case.workflow_id: case
                 for case in await asyncio.gather(*map(described, running)) if case.reasons}
        closed = [execution async for execution in client.list_workflows(
            f"({ENDED_QUERY}){also}", page_size=page_size) if execution.id not in stuck]
        for case in await asyncio.gather(*map(ended, closed)):
            if case is not None:
                stuck.setdefault(case.workflow_id, case)
        for demarche in demarches:
            if not await _intake_running(client, demarche):
                workflow_id = sync_workflow_id(demarche)
                case = stuck.setdefault(workflow_id, StuckCase(
                    workflow_id=workflow_id, workflow_type=SYNC_WORKFLOW))
                case.reasons.append(StuckReason(
                    kind=StuckKind.INTAKE_MISSING,
                    detail=f"aucune synchronisation en cours pour la démarche {demarche} : "
                           "les dossiers déposés ou modifiés ne sont plus relevés"))
    except RPCError as exc:
        raise Unavailable("Temporal est momentanément indisponible") from exc
    return list(stuck.values())
