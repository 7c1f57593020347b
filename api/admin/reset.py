"""Reset a dossier to the start of a stage: find the workflow task that entered it, show what
the reset will do, then do it.

The point is the first ``WorkflowTaskCompleted`` event *after* the first upsert of
``DossierStage = <stage>``: the stage is entered (its consultations registered) in the state the
new run starts from. Resetting to the task *before* the upsert would be wrong: the re-applied
Updates would meet the previous stage and their validators would reject them (lost answers).
Signals and Updates received after the point are re-applied (``ALL_ELIGIBLE``): each Update's
validator runs again against the state at the reset point, so an answer recorded after it
survives when it still applies.
Activities after the point run again; emails are keyed (``SentEmail``), so none is sent twice.
"""

from __future__ import annotations

import json
import uuid

from pydantic import BaseModel, Field
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, ResetReapplyExcludeType, ResetReapplyType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.admin.audit import temporal_identity, temporal_reason
from api.errors import NotFound, Refused
from core.domain.procedure import Stage
from workflows import search_attributes as sa


class ResetPlan(BaseModel):
    workflow_id: str
    run_id: str
    stage: Stage
    event_id: int  # the WorkflowTaskCompleted event to reset to
    events_after: int
    activities_rerun: list[str] = Field(default_factory=list)
    reapplied: list[str] = Field(default_factory=list)  # signals and updates, by name

    def lines(self, drop_updates: bool = False) -> list[str]:
        reapplied = [r for r in self.reapplied if not (drop_updates and r.startswith("update "))]
        return [
            f"{self.workflow_id} (run {self.run_id}) : retour à l’étape « {self.stage} »",
            f"  point de reprise : événement {self.event_id} "
            f"({self.events_after} événements ensuite sont rejoués ou abandonnés)",
            f"  activités ré-exécutées : {', '.join(self.activities_rerun) or 'aucune'} "
            "(courriels dédoublonnés par clé)",
            f"  signaux et mises à jour ré-appliqués : {', '.join(reapplied) or 'aucun'}",
        ]


def _stage_of(event: HistoryEvent) -> str | None:
    fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
    payload = fields.indexed_fields.get(sa.STAGE.name)
    if payload is None or not payload.data:
        return None
    value = json.loads(payload.data)
    return value if isinstance(value, str) else None


def _name_after(event: HistoryEvent) -> str | None:
    if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        return f"signal {event.workflow_execution_signaled_event_attributes.signal_name}"
    if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        request = event.workflow_execution_update_accepted_event_attributes.accepted_request
        return f"update {request.input.name}"
    return None


async def plan_reset(client: Client, workflow_id: str, stage: Stage) -> ResetPlan:
    handle = client.get_workflow_handle(workflow_id)
    try:
        run_id = (await handle.describe()).run_id
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise NotFound(f"{workflow_id} est introuvable") from exc
        raise
    entered = False
    point: int | None = None
    plan = ResetPlan(workflow_id=workflow_id, run_id=run_id, stage=stage, event_id=0,
                     events_after=0)
    for event in history.events:
        if point is None:
            if (event.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
                    and _stage_of(event) == stage.value):
                entered = True
            elif entered and event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                point = event.event_id
                plan.event_id = point
                plan.events_after = len(history.events) - point
            continue
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            plan.activities_rerun.append(
                event.activity_task_scheduled_event_attributes.activity_type.name)
        name = _name_after(event)
        if name is not None:
            plan.reapplied.append(name)
    if point is None:
        raise Refused(f"{workflow_id} n’est jamais entré dans l’étape « {stage} »")
    return plan


async def execute_reset(client: Client, plan: ResetPlan, reason: str, identity: str,
                        drop_updates: bool = False) -> str:
    """Resets; returns the new run id. The reason and identity land in the new run's history.

    ``drop_updates`` sends the dossier back to the stage: BESSII's Updates after the point
    (admissibility, decision) are not re-applied, the signals (CRA opinions) still are.
    """
    exclude = [ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE] if drop_updates else []
    response = await client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=plan.workflow_id,
                                                 run_id=plan.run_id),
            reason=temporal_reason(reason),
            workflow_task_finish_event_id=plan.event_id,
            request_id=str(uuid.uuid4()),
            reset_reapply_type=ResetReapplyType.RESET_REAPPLY_TYPE_ALL_ELIGIBLE,
            reset_reapply_exclude_types=exclude,
            identity=temporal_identity(identity),
        ))
    return response.run_id
