"""Agent and admin Updates: applied once per request id, and their slow work queued.

**Once per id.** Every agent and admin Update is sent with an id of its own (the HTTP
``Idempotency-Key``, a per-form token, one per ``ptce admin`` invocation): Temporal answers a
retry with the same id from its own record while the run lasts; the workflow also remembers
the ids it applied, so that a retry arriving later (after a reset, in a new run rebuilt from
re-applied Updates) is accepted and changes nothing. Pure state: old histories replay as before.

**Slow work queued** (``patches.AMENDMENT_QUEUE``). An Update handler only validates, changes
the state and returns a small result; what takes time (activities, child starts, signals to
other workflows) goes to a queue that one coroutine of the run works through in order. A
blocked email or a slow platform no longer makes the next amendment "Busy", and the request
that asked for it returns at once. Executions started before the patch keep the handlers'
former commands.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import patches

T = TypeVar("T")
Job = Callable[[], Awaitable[None]]
# Set inside the queue's coroutine: a blocked step there is an amendment's, never closable.
IN_QUEUE: contextvars.ContextVar[bool] = contextvars.ContextVar("ptce_in_queue", default=False)


class Requests:
    def _init_requests(self) -> None:
        self._applied: dict[str, Any] = {}  # Update id -> the small result it returned
        self._work: list[Job] = []
        self._working = False
        self._queued = False  # this execution queues its slow work (set by the run)
        self._worker: asyncio.Task[None] | None = None

    # ----------------------------------------------------------------- once per id

    def _request_id(self) -> str | None:
        info = workflow.current_update_info()
        return info.id if info is not None else None

    def _known(self) -> bool:
        """In a validator: this Update's id was applied already (accept it, it changes
        nothing). In a handler: return ``_answered()`` instead of applying it again."""
        request = self._request_id()
        return request is not None and request in self._applied

    def _answered(self) -> Any:
        request = self._request_id()
        assert request is not None
        return self._applied[request]

    def _done(self, result: T) -> T:
        """The handler's small result, remembered under its Update id."""
        request = self._request_id()
        if request is not None:
            self._applied[request] = result
        return result

    # ----------------------------------------------------------------- the queue

    def _start_queue(self, worker: bool = True) -> None:
        """First thing in the run: new executions queue their slow work from here on, worked
        through by a coroutine of their own (``worker``) or by the run itself (``_drain``)."""
        # Implied on the lean path (``workflows.lean``: decided before, in the same release).
        self._queued = getattr(self, "_lean", False) or workflow.patched(
            patches.AMENDMENT_QUEUE.id)
        if self._queued and worker:
            self._start_worker()

    def _start_worker(self) -> None:
        if self._worker is None:
            self._worker = asyncio.create_task(self._work_through())

    def _enqueue(self, *jobs: Job) -> None:
        self._work.extend(jobs)

    def _drained(self) -> bool:
        return not self._work and not self._working

    async def _run_job(self) -> None:
        job = self._work.pop(0)
        self._working = True
        try:
            await job()
        finally:
            self._working = False

    async def _drain(self) -> None:
        """The run works through the queue itself (its steps may close the execution)."""
        while self._work:
            await self._run_job()

    async def _work_through(self) -> None:
        IN_QUEUE.set(True)
        while True:
            await workflow.wait_condition(lambda: bool(self._work))
            await self._run_job()
