"""The intake's reading of the platform's cursor lists: overlapping re-reads, the memory of what
was seen, and the waits a long page needs (heartbeats, the rate limit's reset).

A cursor is ``base64url("<updated_at %Y-%m-%dT%H:%M:%S.%NZ>;<id>")``, rows come strictly after
it (``Connections::CursorConnection``, app/graphql/connections/cursor_connection.rb#L128-L159).
``updated_at`` is set by the application before its transaction commits, on several servers, so a
row can become visible after a later one was read and passed: each poll starts again a little
before the persisted cursor (``overlapped``) and the edges already seen are skipped by their
cursor (``seen``, pruned of what no re-read can return).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import activity

from activities.platform.client import DsClient, PlatformRateLimited

OVERLAP = timedelta(minutes=2)  # far more than a request's commit can lag
# ``deletedDossiers``: a purged dossier's row is back-dated to the applicant's deletion, two
# weeks and a day before at most (app/models/deleted_dossier.rb#L29-L36, the daily purge): the
# list is re-read over that span, or such rows would fall behind the cursor.
DELETED_OVERLAP = timedelta(days=15)
HEARTBEAT_EVERY = 10.0  # seconds, while a request lasts or the rate limit's window resets
# What one intake call may spend waiting out 429s before it gives the error to Temporal's retry:
# with its time budget (activities.intake.SYNC_BUDGET) well within the attempt (options.INTAKE).
MAX_RATE_LIMIT_WAIT = timedelta(minutes=5)


def cursor_instant(cursor: str | None) -> datetime | None:
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp = text.split(";", 1)[0]
        whole, _, fraction = stamp.rstrip("Z").partition(".")
        moment = datetime.fromisoformat(whole).replace(tzinfo=UTC)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return moment + timedelta(microseconds=int((fraction or "0").ljust(6, "0")[:6]))


def _position(cursor: str) -> tuple[datetime, int] | None:
    moment = cursor_instant(cursor)
    try:
        key = int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
                  .split(";", 1)[1])
    except (binascii.Error, UnicodeDecodeError, ValueError, IndexError):
        return None
    return None if moment is None else (moment, key)


def later(current: str | None, candidate: str | None) -> str | None:
    """The cursor further on: a page of the overlapping re-read ends before the stored one."""
    if candidate is None:
        return current
    if current is None:
        return candidate
    a, b = _position(current), _position(candidate)
    if a is None or b is None:
        return candidate
    return candidate if b > a else current


def overlapped(cursor: str | None, overlap: timedelta = OVERLAP) -> str | None:
    """A cursor ``overlap`` before ``cursor`` (id 0: every row of that instant comes after it);
    an unreadable cursor is used as it is."""
    moment = cursor_instant(cursor)
    if moment is None:
        return cursor
    earlier = (moment - overlap).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
    return base64.urlsafe_b64encode(f"{earlier};0".encode()).decode().rstrip("=")


def prune(seen: dict[str, Any], cursor: str | None, overlap: timedelta) -> dict[str, Any]:
    """Drops the edges no re-read can return unchanged any more (older than two overlaps
    before the cursor); an edge's key is its cursor."""
    moment = cursor_instant(cursor)
    if moment is None:
        return seen
    horizon = moment - 2 * overlap
    return {n: key for n, key in seen.items()
            if (at := cursor_instant(str(key))) is not None and at >= horizon}


class Pager:
    """Queries for one intake call: a 429 is waited out in place (``Retry-After``, else
    ``RateLimit-Reset``), with heartbeats, instead of failing the whole call and reading its
    page again; and a slow page heartbeats while it is read. The waits of one call are bounded
    (``MAX_RATE_LIMIT_WAIT``): past it the 429 goes to Temporal's retry, within the attempt."""

    def __init__(self, ds: DsClient, max_wait: float | None = None) -> None:
        self._ds = ds
        self.waited = 0.0
        self._max_wait = MAX_RATE_LIMIT_WAIT.total_seconds() if max_wait is None else max_wait

    async def query(self, name: str, variables: dict[str, Any]) -> dict[str, Any]:
        while True:
            try:
                return await self._beating(self._ds.execute(name, variables))
            except PlatformRateLimited as exc:
                if self.waited + exc.retry_after > self._max_wait:
                    raise
                await self._wait(exc.retry_after)

    @staticmethod
    async def _beating(call: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
        """The request, with a heartbeat every ``HEARTBEAT_EVERY`` while it lasts."""
        task = asyncio.ensure_future(call)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY)
                if done:
                    return task.result()
                activity.heartbeat("reading the platform")
        finally:
            task.cancel()  # no effect once done; stops the request if we are cancelled

    async def _wait(self, seconds: float) -> None:
        self.waited += seconds
        remaining = max(seconds, 0.1)
        while remaining > 0:
            activity.heartbeat("rate limited")
            step = min(remaining, HEARTBEAT_EVERY)
            await asyncio.sleep(step)
            remaining -= step
        activity.heartbeat("rate limit reset")
