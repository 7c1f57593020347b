"""Every admin action leaves a row in ``admin_actions``: who, when, what, why, and the result,
whether it succeeded, was refused by a workflow validator, or failed."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from api.errors import ApiError, Refused
from core.db.engine import Database
from core.db.repositories import AdminActionRepository
from core.domain.procedure import Agent
from core.telemetry.logs import redact

T = TypeVar("T")
MAX_TARGET = 200  # admin_actions.target; a longer one (a batch's query) goes to params


def temporal_reason(reason: str) -> str:
    """What a terminate or reset may say in the history: the admin's words without email
    addresses or phone numbers (the whole reason and who gave it are in ``admin_actions``)."""
    return f"ptce admin: {redact(reason)}"[:300]


def temporal_identity(actor_id: str) -> str:
    """Who did it, as the history shows it: a stable pseudonym, never the admin's email."""
    return "ptce-admin-" + hashlib.sha256(actor_id.encode()).hexdigest()[:12]


async def record(db: Database, agent: Agent, action: str, target: str, reason: str,
                 params: dict[str, Any], result: str, detail: str | None = None) -> None:
    if len(target) > MAX_TARGET:  # a batch's query: whole in the params, never lost
        params, target = {**params, "target": target}, target[:MAX_TARGET - 1] + "…"
    async with db.unit_of_work() as session:
        AdminActionRepository(session).add(
            at=datetime.now(UTC), actor_id=agent.id, actor_name=agent.name, action=action,
            target=target, reason=reason, params=params, result=result, detail=detail)


async def audited(db: Database, agent: Agent, action: str, target: str, reason: str,
                  params: dict[str, Any], run: Callable[[], Awaitable[T]]) -> T:
    """Runs the action and records its outcome; the action's error is re-raised unchanged."""
    try:
        value = await run()
    except Refused as exc:
        await record(db, agent, action, target, reason, params, "refused", exc.message)
        raise
    except ApiError as exc:
        await record(db, agent, action, target, reason, params, "failed", exc.message)
        raise
    except Exception as exc:
        await record(db, agent, action, target, reason, params, "failed", type(exc).__name__)
        raise
    await record(db, agent, action, target, reason, params, "done")
    return value
