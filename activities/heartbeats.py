"""Heartbeats for every activity that has a heartbeat timeout, while it runs.

An attempt may last minutes (``workflows/options.py``: longer than every request it makes), so
when a worker dies in the middle of one, Temporal would wait out the whole attempt before
retrying it elsewhere. With a heartbeat timeout of seconds and these beats, a dead worker's
attempt is retried by another worker within that timeout; a live one keeps its attempt, however
long its requests take. Local activities run inside the workflow task and never beat; an
activity that beats itself, with details worth showing (the intake: its pages, a rate limit
waited out), says so with ``@beats_itself`` and keeps its details.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

BEATS_PER_TIMEOUT = 4
F = TypeVar("F", bound=Callable[..., Any])
_BEATS_ITSELF = "__ptce_beats_itself"


def beats_itself(fn: F) -> F:
    setattr(fn, _BEATS_ITSELF, True)
    return fn


class AutoHeartbeat(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Beating(next)


class _Beating(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        if info.is_local or not info.heartbeat_timeout or getattr(input.fn, _BEATS_ITSELF, False):
            return await self.next.execute_activity(input)
        beats = asyncio.create_task(_beat(info.heartbeat_timeout.total_seconds()
                                          / BEATS_PER_TIMEOUT))
        try:
            return await self.next.execute_activity(input)
        finally:
            beats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beats


async def _beat(every: float) -> None:
    while True:
        await asyncio.sleep(every)
        activity.heartbeat()
