"""What a set of histories exercises, per workflow type: the Update and signal handlers, the
activities, the child workflows, the patch markers and the procedure's branches, read from the
events alone (search attributes are plaintext; payloads are never decoded). The replay gate
prints it and fails on a registered handler or a branch no history exercises; ``ptce admin
replay`` prints it for the sample it replayed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

from core.ids import CONSULTATION_WORKFLOW, DOSSIER_WORKFLOW, SYNC_WORKFLOW
from workflows import search_attributes as sa

_E = EventType


@dataclass
class Trace:
    """One history, summarized."""

    workflow_type: str
    updates: set[str] = field(default_factory=set)
    signals: set[str] = field(default_factory=set)
    activities: set[str] = field(default_factory=set)
    children: set[str] = field(default_factory=set)  # child workflow ids
    patches: set[str] = field(default_factory=set)
    stages: list[str] = field(default_factory=list)  # DossierStage values, in order
    decisions: set[str] = field(default_factory=set)
    blocked: bool = False
    continued: bool = False  # continued as new


def _keyword(event: HistoryEvent, name: str) -> str | bool | None:
    """A keyword search attribute upserted by ``event``: its value, None if unset, False if
    the event does not touch it."""
    fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
    if name not in fields.indexed_fields:
        return False
    payload = fields.indexed_fields[name]
    value = json.loads(payload.data) if payload.data else None
    return value if isinstance(value, str) else None


def trace(history: WorkflowHistory) -> Trace:
    events = history.events
    started = events[0].workflow_execution_started_event_attributes
    t = Trace(workflow_type=started.workflow_type.name)
    for event in events:
        kind = event.event_type
        if kind == _E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            accepted = event.workflow_execution_update_accepted_event_attributes
            t.updates.add(accepted.accepted_request.input.name)
        elif kind == _E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            t.signals.add(event.workflow_execution_signaled_event_attributes.signal_name)
        elif kind == _E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            t.activities.add(event.activity_task_scheduled_event_attributes.activity_type.name)
        elif kind == _E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            t.children.add(event.start_child_workflow_execution_initiated_event_attributes
                           .workflow_id)
        elif kind == _E.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == "core_patch" and "patch-data" in marker.details:
                data = marker.details["patch-data"].payloads[0].data
                t.patches.add(str(json.loads(data).get("id")))
        elif kind == _E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            stage = _keyword(event, sa.STAGE.name)
            if isinstance(stage, str) and (not t.stages or t.stages[-1] != stage):
                t.stages.append(stage)
            decision = _keyword(event, sa.DECISION.name)
            if isinstance(decision, str):
                t.decisions.add(decision)
            if isinstance(_keyword(event, sa.BLOCKED_STEP.name), str):
                t.blocked = True
        elif kind == _E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            t.continued = True
    return t


Branch = Callable[[Trace], bool]


def _went(*stages: str) -> Branch:
    """The stages follow each other in this order (others may come between)."""
    def went(t: Trace) -> bool:
        at = 0
        for stage in t.stages:
            if at < len(stages) and stage == stages[at]:
                at += 1
        return at == len(stages)
    return went


BRANCHES: dict[str, dict[str, Branch]] = {
    DOSSIER_WORKFLOW: {
        "complete at once": lambda t: _went("received", "admissibility")(t)
        and "awaiting_correction" not in t.stages,
        "corrected in time": _went("awaiting_correction", "admissibility"),
        "never corrected (sans suite)": lambda t: "awaiting_correction" in t.stages
        and "admissibility" not in t.stages and "sans_suite" in t.decisions,
        "not admissible": lambda t: "sans_suite" in t.decisions
        and "instruction" not in t.stages and "admissibility" in t.stages,
        "laureate": lambda t: "laureat" in t.decisions,
        "not selected": lambda t: "non_retenu" in t.decisions,
        "sent back to admissibility": _went("instruction", "admissibility", "instruction"),
        "consultation in a new round": lambda t: any(c.endswith("-r2") for c in t.children),
        "deleted on the platform (withdrawn)": lambda t: bool(t.stages)
        and t.stages[-1] == "closed" and not t.decisions and not t.blocked,
        "blocked, then resumed": lambda t: t.blocked and "resume" in t.updates,
        "notified": _went("notification", "closed"),
    },
    CONSULTATION_WORKFLOW: {
        "answered": lambda t: "answered" in t.stages,
        "no response (escalation)": lambda t: "no_response" in t.stages,
        "skipped": lambda t: "skipped" in t.stages,
        "blocked, then resumed": lambda t: t.blocked and "resume" in t.updates,
    },
    SYNC_WORKFLOW: {
        "polled": lambda t: bool(t.activities),
        "woken by the webhook": lambda t: "sync_now" in t.signals,
        "continued as new": lambda t: t.continued,
    },
}


@dataclass
class TypeCoverage:
    histories: int = 0
    updates: set[str] = field(default_factory=set)
    signals: set[str] = field(default_factory=set)
    activities: set[str] = field(default_factory=set)
    patches: set[str] = field(default_factory=set)
    branches: set[str] = field(default_factory=set)


@dataclass
class Coverage:
    types: dict[str, TypeCoverage] = field(default_factory=dict)

    def add(self, t: Trace) -> None:
        c = self.types.setdefault(t.workflow_type, TypeCoverage())
        c.histories += 1
        c.updates |= t.updates
        c.signals |= t.signals
        c.activities |= t.activities
        c.patches |= t.patches
        c.branches |= {name for name, went in BRANCHES.get(t.workflow_type, {}).items()
                       if went(t)}

    def missing(self, workflows: Iterable[type]) -> dict[str, list[str]]:
        """Per registered workflow type: its handlers and branches no history exercises."""
        out: dict[str, list[str]] = {}
        for cls in workflows:
            definition = workflow._Definition.from_class(cls)
            assert definition is not None and definition.name is not None
            c = self.types.get(definition.name, TypeCoverage())
            gaps = [f"update {u}" for u in sorted(k for k in definition.updates if k)
                    if u not in c.updates]
            gaps += [f"signal {s}" for s in sorted(k for k in definition.signals if k)
                     if s not in c.signals]
            gaps += [f"branch {b}" for b in BRANCHES.get(definition.name, {})
                     if b not in c.branches]
            if not c.histories:
                gaps.insert(0, "no history at all")
            if gaps:
                out[definition.name] = gaps
        return out

    def lines(self) -> list[str]:
        out: list[str] = []
        for name, c in sorted(self.types.items()):
            out += [f"{name} : {c.histories} historique(s)",
                    f"  updates : {', '.join(sorted(c.updates)) or '—'}",
                    f"  signaux : {', '.join(sorted(c.signals)) or '—'}",
                    f"  activités : {', '.join(sorted(c.activities)) or '—'}",
                    f"  patchs : {', '.join(sorted(c.patches)) or '—'}",
                    f"  branches : {', '.join(sorted(c.branches)) or '—'}"]
        return out


def coverage(histories: Iterable[WorkflowHistory]) -> Coverage:
    result = Coverage()
    for history in histories:
        result.add(trace(history))
    return result
