"""History events of a workflow and of the child workflows it started (Temporal's own record)."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client


@dataclass(frozen=True)
class HistorySize:
    parent: int
    children: int

    @property
    def total(self) -> int:
        return self.parent + self.children


async def history_size(client: Client, workflow_id: str) -> HistorySize:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    children = [e.child_workflow_execution_started_event_attributes.workflow_execution.workflow_id
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED]
    sizes = [len((await client.get_workflow_handle(c).fetch_history()).events) for c in children]
    return HistorySize(len(history.events), sum(sizes))


async def event_types(client: Client, workflow_id: str) -> dict[str, int]:
    """Event type name → count, to compare the shapes of two workflows."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    counts: dict[str, int] = {}
    for e in history.events:
        name = EventType.Name(e.event_type).removeprefix("EVENT_TYPE_")
        counts[name] = counts.get(name, 0) + 1
    return counts
