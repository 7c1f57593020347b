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


async def wait_with_moving_deadline(
    done: Callable[[], bool],
    deadline: Callable[[], datetime],
    reminders: list[datetime],
    remind: Callable[[int], Awaitable[None]],
    summary: str,
    reminder_summary: str,
    sent: int = 0,
) -> bool:
    """Like ``wait_with_reminders``, but the deadline may move while waiting (an admin extends or
    shortens it): each wait also wakes when ``deadline()`` changes and re-arms its timer.

    Only for executions that passed ``workflow.patched`` (the timers differ from the old loop).
    """
    pending = sorted(reminders)
    while True:
        if done():
            return True
        now, at = workflow.now(), deadline()
        pending = [r for r in pending if r > now]
        upcoming = [r for r in pending if r < at]
        target = upcoming[0] if upcoming else at
        remaining = target - now
        if remaining.total_seconds() <= 0:
            return done()
        try:
            await workflow.wait_condition(
                lambda at=at: done() or deadline() != at, timeout=remaining,  # type: ignore[misc]
                timeout_summary=reminder_summary if upcoming else summary)
        except TimeoutError:
            if done():
                return True
            if deadline() != at:
                continue
            if not upcoming:
                return False
            pending.remove(target)
            sent += 1
            await remind(sent)
