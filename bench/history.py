"""History events and workflow tasks of a workflow and of the child workflows it started
(Temporal's own record): what a dossier and its consultation cost the server in round trips."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

TASK = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED


@dataclass(frozen=True)
class HistorySize:
    parent: int  # events of the dossier workflow
    children: int  # events of its consultations, together
    parent_tasks: int = 0  # workflow tasks completed
    children_tasks: int = 0
    consultations: int = 0  # child workflows started

    @property
    def total(self) -> int:
        return self.parent + self.children

    @property
    def tasks(self) -> int:
        return self.parent_tasks + self.children_tasks


async def history_size(client: Client, workflow_id: str) -> HistorySize:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    children = [e.child_workflow_execution_started_event_attributes.workflow_execution.workflow_id
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED]
    events = tasks = 0
    for child in children:
        child_history = await client.get_workflow_handle(child).fetch_history()
        events += len(child_history.events)
        tasks += sum(1 for e in child_history.events if e.event_type == TASK)
    return HistorySize(len(history.events), events,
                       sum(1 for e in history.events if e.event_type == TASK), tasks,
                       len(children))


async def event_types(client: Client, workflow_id: str) -> dict[str, int]:
    """Event type name → count, to compare the shapes of two workflows."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    counts: dict[str, int] = {}
    for e in history.events:
        name = EventType.Name(e.event_type).removeprefix("EVENT_TYPE_")
        counts[name] = counts.get(name, 0) + 1
    return counts
