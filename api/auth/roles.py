"""Roles of BESSII's people: read from the table that admins manage, on every request."""

from __future__ import annotations

from enum import StrEnum

from core.db.engine import Database
from core.db.repositories import AgentRoleRepository


class Role(StrEnum):
    AGENT = "agent"
    ADMIN = "admin"


ROLE_LABELS: dict[Role, str] = {Role.AGENT: "Agent BESSII", Role.ADMIN: "Administrateur"}


def principal_of_email(email: str) -> str:
    return email.strip().lower()


async def role_of(db: Database, sub: str, email: str | None,
                  bootstrap_admins: list[str]) -> Role | None:
    """``bootstrap_admins`` (settings) are admins whatever the table says: the first ones."""
    if email and principal_of_email(email) in {principal_of_email(a) for a in bootstrap_admins}:
        return Role.ADMIN
    async with db.unit_of_work() as session:
        found = await AgentRoleRepository(session).role_of(
            sub, principal_of_email(email) if email else "")
    return Role(found) if found is not None and found in Role.__members__.values() else None
