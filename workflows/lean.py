"""The lean path (``patches.LEAN_PATH``, issue 18): fewer workflow tasks and history events per
dossier and per consultation, for executions started from 0.4.0 on.

Decided **once, at run start** (``_start_lean``, the run's first command): an execution that
started before keeps ``_lean = False`` for its whole life, whatever it meets later, and replays
exactly the commands it recorded. On the lean path:

- the store activities (records, synthesis snapshots, dossier snapshots, the CRA pair) are
  *local* activities: one marker event each, run inside the workflow task that needs them,
  instead of a scheduled/started/completed activity and a workflow task of their own. Same
  timeouts and retry policy (``options.local``), same ``_guarded`` around them: a failure that
  retrying cannot cure parks the step, never the workflow;
- a search-attribute upsert carries only the attributes whose value changed, and none is issued
  when nothing did (``_upsert``): the UI shows the same values, set at the stage changes;
- the markers of the patches registered before this one are implied: call sites read
  ``self._lean or workflow.patched(patches.X.id)``, so a lean execution records none of them
  (each costs a marker and a ``TemporalChangeVersion`` upsert) and takes their new branch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ActivityError, CancelledError, FailureError

with workflow.unsafe.imports_passed_through():
    from workflows import options, patches

S = TypeVar("S")
P = TypeVar("P")
R = TypeVar("R")


def _same(a: object, b: object) -> bool:
    # The server keeps no empty keyword list: an empty list and an absent attribute are one.
    return (a or None) == (b or None) if isinstance(a, list) or isinstance(b, list) else a == b


class Lean:
    """Mixin of both workflows."""

    _lean = False

    def _start_lean(self) -> None:
        """The run's first call: the marker goes first in the history of a lean execution."""
        self._lean = workflow.patched(patches.LEAN_PATH.id)

    def _upsert(self, updates: list[SearchAttributeUpdate[Any]]) -> None:
        if self._lean:
            current = workflow.info().typed_search_attributes
            updates = [u for u in updates if not _same(current.get(u.key), u.value)]
            if not updates:
                return
        workflow.upsert_search_attributes(updates)

    def _store(self, method: Callable[[S, P], Awaitable[R]], arg: P, summary: str,
               scheduled: bool = False) -> Awaitable[R]:
        """A store activity (``activities.store``): local on the lean path, else as before.
        ``scheduled``: a scheduled activity all the same, where its completion's workflow task
        is needed (the reset point of a stage that then waits on people, ``api.admin.reset``)."""
        if self._lean and not scheduled:
            return _local(method, arg, summary)
        return workflow.execute_activity_method(method, arg, **options.store(summary))


async def _local(method: Callable[[S, P], Awaitable[R]], arg: P, summary: str) -> R:
    """A local activity whose failure reaches ``Blocking._guarded`` as a scheduled activity's
    would: the SDK raises a local activity's failure bare (``ApplicationError``, ``TimeoutError``),
    ``_guarded`` parks an ``ActivityError`` and reads its cause."""
    try:
        return await workflow.execute_local_activity_method(method, arg, **options.local(summary))
    except CancelledError:
        raise
    except FailureError as err:
        raise ActivityError(f"local activity {summary} failed", scheduled_event_id=0,
                            started_event_id=0, identity="local", activity_type=summary,
                            activity_id="", retry_state=None) from err
