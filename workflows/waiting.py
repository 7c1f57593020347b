"""A human wait as a named step: a condition raced against timers, reminders on the way, and a
deadline that becomes an explicit outcome (False), never an exception."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from temporalio import workflow


async def wait_until(done: Callable[[], bool], at: datetime | None, summary: str) -> bool:
    """True as soon as ``done()``; False when ``at`` is reached first (no timer if ``at`` is None)."""
    if done():
        return True
    if at is None:
        await workflow.wait_condition(done)
        return True
    remaining = at - workflow.now()
    if remaining.total_seconds() <= 0:
        return done()
    try:
        await workflow.wait_condition(done, timeout=remaining, timeout_summary=summary)
    except TimeoutError:
        return done()
    return True


async def wait_with_reminders(
    done: Callable[[], bool],
    deadline: datetime | None,
    reminders: list[datetime],
    remind: Callable[[int], Awaitable[None]],
    summary: str,
    reminder_summary: str,
) -> bool:
    """Waits for ``done()``; calls ``remind(n)`` at each reminder time before the deadline."""
    pending = sorted(r for r in reminders if deadline is None or r < deadline)
    sent = 0
    for at in pending:
        if at <= workflow.now():
            continue
        if await wait_until(done, at, reminder_summary):
            return True
        sent += 1
        await remind(sent)
    return await wait_until(done, deadline, summary)
