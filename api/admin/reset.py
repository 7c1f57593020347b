"""Reset a dossier to the start of a stage: the plan (what will be re-applied, what dropped, and
why), then the reset that does exactly that (``api.admin.reset_apply``).

The point is the first ``WorkflowTaskCompleted`` event *after* the first upsert of
``DossierStage = <stage>``: the new run starts in the stage, its consultations registered.

What came in after the point is not left to the server's re-application (it delivers every
Update at once, to a run that has not reached the stage they were accepted at, so their
validators refuse them): the reset excludes signals and Updates, and the tool delivers each
kept one itself, in the original order, with its original payload and Update id, each Update
once the new run has reached the stage it was first accepted at:
- the applicant's and the platform's signals (``dossier_changed``), and the consultations'
  notices to the dossier: re-applied;
- BESSII's Updates (admissibility, eligibility, decision): re-applied, unless
  ``--drop-updates`` (the dossier goes back to the stage for BESSII to act again);
- admins' corrections (withdrawal, referent email, regions, send-back, consultation deadline,
  member, link, skip): re-applied, unless ``--drop-corrections``;
- ``resume`` of a block: dropped (a block of the old run; the new run re-runs the step, and
  if it blocks again an admin resumes it again).

Consultations (child workflows) opened *after* the point would collide with the new run's,
which opens them again under the same ids: they are terminated before the reset, and what
they received (the CRA's opinion, admins' amendments) is delivered to the new consultation of
the same id once it runs; their notices to the old dossier run are dropped (the new
consultation sends its own). Their emails are keyed by consultation id, so none is sent twice
and the links the members hold keep working. Consultations opened before the point are the
new run's already (the server re-attaches them) and go on untouched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.errors import NotFound, Refused
from core.domain.procedure import Stage
from workflows import search_attributes as sa

BESSII = frozenset({"confirm_admissibility", "record_eligibility", "record_decision"})
CORRECTIONS = frozenset({"withdraw", "correct_referent_email", "correct_regions", "send_back",
                         "change_deadline", "replace_member", "resend_link", "skip"})
ORDER = [Stage.RECEIVED, Stage.AWAITING_CORRECTION, Stage.ADMISSIBILITY, Stage.INSTRUCTION,
         Stage.NOTIFICATION, Stage.CLOSED]
_E = EventType


@dataclass
class Delivery:
    """A signal or an Update received after the point: delivered again by the tool, or not."""

    kind: str  # "signal" | "update"
    name: str
    target: str  # the workflow id receiving it
    at: datetime
    event: HistoryEvent
    stage: Stage | None = None  # the dossier's stage when it was first received
    dropped: str | None = None  # why it is not delivered again (None: it is)

    @property
    def update_id(self) -> str | None:
        if self.kind != "update":
            return None
        accepted = self.event.workflow_execution_update_accepted_event_attributes
        return accepted.accepted_request.meta.update_id

    def line(self, dossier_id: str) -> str:
        where = f" → {self.target}" if self.target != dossier_id else ""
        when = f" (à l’étape « {self.stage} »)" if self.kind == "update" and self.stage else ""
        why = f" : {self.dropped}" if self.dropped else ""
        return f"{self.kind} {self.name}{where}{when}{why}"


@dataclass
class ResetPlan:
    workflow_id: str
    run_id: str
    stage: Stage
    event_id: int  # the WorkflowTaskCompleted event to reset to
    events_after: int
    activities_rerun: list[str] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)  # in their original order
    reopened: list[str] = field(default_factory=list)  # consultations started after the point
    drop_updates: bool = False
    drop_corrections: bool = False

    @property
    def reapplied(self) -> list[str]:
        return [d.line(self.workflow_id) for d in self.deliveries if d.dropped is None]

    @property
    def dropped(self) -> list[str]:
        return [d.line(self.workflow_id) for d in self.deliveries if d.dropped is not None]

    def lines(self) -> list[str]:
        out = [
            f"{self.workflow_id} (run {self.run_id}) : retour à l’étape « {self.stage} »",
            f"  point de reprise : événement {self.event_id} "
            f"({self.events_after} événements ensuite sont rejoués ou abandonnés)",
            f"  activités ré-exécutées : {', '.join(self.activities_rerun) or 'aucune'} "
            "(courriels dédoublonnés par clé)",
            "  consultations ouvertes après le point (terminées, puis rouvertes sous le même "
            f"identifiant par la nouvelle exécution) : {', '.join(self.reopened) or 'aucune'}",
            f"  ré-appliqués, dans l’ordre ({len(self.reapplied)}) :",
            *(f"    - {line}" for line in self.reapplied),
            f"  abandonnés ({len(self.dropped)}) :",
            *(f"    - {line}" for line in self.dropped),
        ]
        return out


def _stage_of(event: HistoryEvent) -> str | None:
    fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
    payload = fields.indexed_fields.get(sa.STAGE.name)
    if payload is None or not payload.data:
        return None
    value = json.loads(payload.data)
    return value if isinstance(value, str) else None


def _delivery(event: HistoryEvent, target: str, stage: Stage | None) -> Delivery | None:
    at = event.event_time.ToDatetime()
    if event.event_type == _E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        name = event.workflow_execution_signaled_event_attributes.signal_name
        return Delivery("signal", name, target, at, event)
    if event.event_type == _E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        request = event.workflow_execution_update_accepted_event_attributes.accepted_request
        return Delivery("update", request.input.name, target, at, event, stage)
    return None


def _judge(d: Delivery, plan: ResetPlan) -> None:
    if d.kind == "signal":
        sender = d.event.workflow_execution_signaled_event_attributes.external_workflow_execution
        if sender.workflow_id in plan.reopened:
            d.dropped = "notice de la consultation rouverte (la nouvelle envoie la sienne)"
    elif d.name == "resume":
        d.dropped = "reprise d’un blocage de l’ancienne exécution (à refaire s’il se reproduit)"
    elif d.name in BESSII and plan.drop_updates:
        d.dropped = "décision du BESSII abandonnée (--drop-updates)"
    elif d.name in CORRECTIONS and plan.drop_corrections:
        d.dropped = "correction d’administrateur abandonnée (--drop-corrections)"
    elif (plan.drop_updates and d.target == plan.workflow_id and d.stage is not None
          and _rank(d.stage) > _rank(Stage.ADMISSIBILITY) >= _rank(plan.stage)):
        # Without BESSII's admissibility the new run stays at admissibility: a correction
        # made later is delivered there; a send-back made at instruction has no object.
        if d.name == "send_back":
            d.dropped = "renvoi prononcé à l’instruction, sans objet sans la recevabilité"
        else:
            d.stage = Stage.ADMISSIBILITY


def _rank(stage: Stage) -> int:
    return ORDER.index(stage)


async def plan_reset(client: Client, workflow_id: str, stage: Stage, *,
                     drop_updates: bool = False, drop_corrections: bool = False) -> ResetPlan:
    handle = client.get_workflow_handle(workflow_id)
    try:
        run_id = (await handle.describe()).run_id
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise NotFound(f"{workflow_id} est introuvable") from exc
        raise
    plan = ResetPlan(workflow_id=workflow_id, run_id=run_id, stage=stage, event_id=0,
                     events_after=0, drop_updates=drop_updates,
                     drop_corrections=drop_corrections)
    entered, current = False, None
    children: list[tuple[str, str]] = []  # (workflow id, run id) started after the point
    for event in history.events:
        if event.event_type == _E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            value = _stage_of(event)
            if value is not None and value in Stage.__members__.values():
                current = Stage(value)
        if not plan.event_id:
            if current is stage:
                entered = True
            if entered and event.event_type == _E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                plan.event_id = event.event_id
                plan.events_after = len(history.events) - event.event_id
            continue
        if event.event_type == _E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            plan.activities_rerun.append(
                event.activity_task_scheduled_event_attributes.activity_type.name)
        elif event.event_type == _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
            child = event.child_workflow_execution_started_event_attributes.workflow_execution
            children.append((child.workflow_id, child.run_id))
        delivery = _delivery(event, workflow_id, current)
        if delivery is not None:
            plan.deliveries.append(delivery)
    if not plan.event_id:
        raise Refused(f"{workflow_id} n’est jamais entré dans l’étape « {stage} »")
    plan.reopened = [child_id for child_id, _ in children]
    for child_id, child_run in children:  # what they received goes to their new instance
        child_history = await client.get_workflow_handle(child_id, run_id=child_run
                                                         ).fetch_history()
        for event in child_history.events:
            delivery = _delivery(event, child_id, None)
            if delivery is not None and delivery.kind == "update":
                plan.deliveries.append(delivery)
    plan.deliveries.sort(key=lambda d: d.at)
    for delivery in plan.deliveries:
        _judge(delivery, plan)
    return plan
