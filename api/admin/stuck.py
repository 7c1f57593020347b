"""Stuck dossiers: what visibility and ``describe`` tell about each running case.

A case is stuck when its stage deadline passed without progress, when an activity keeps
retrying (or is paused), when its workflow task keeps failing (non-determinism after a bad
deploy, a bug), or when BESSII's decision waits too long.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field
from temporalio.api.failure.v1 import Failure
from temporalio.client import Client, WorkflowExecution, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import Unavailable
from core.domain.admin import Block
from core.domain.procedure import Stage
from core.ids import CONSULTATION_WORKFLOW, DOSSIER_WORKFLOW
from workflows import search_attributes as sa

QUERY = (f"ExecutionStatus = 'Running' AND WorkflowType IN ('{DOSSIER_WORKFLOW}', "
         f"'{CONSULTATION_WORKFLOW}')")
LIMIT = 1000
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


async def find_stuck(client: Client, now: datetime,
                     decision_after: timedelta = timedelta(days=14)) -> list[StuckCase]:
    """Every running dossier or consultation with at least one reason to look at it, in the
    order visibility lists them."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def described(case: StuckCase) -> StuckCase:
        async with gate:
            await _add_task_state(client, case)
        return case

    try:
        cases = [_from_visibility(execution, now, decision_after)
                 async for execution in client.list_workflows(QUERY, limit=LIMIT)]
        return [case for case in await asyncio.gather(*map(described, cases)) if case.reasons]
    except RPCError as exc:
        raise Unavailable("Temporal est momentanément indisponible") from exc
