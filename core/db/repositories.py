"""Repositories hold a session and never commit: the unit of work commits at the edge."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.tables import (
    AdminAction,
    AgentRole,
    AlertClaim,
    CraLinkAccess,
    CraMember,
    DossierRecord,
    DossierSnapshot,
    IntakeListCursor,
    QuarantinedDossier,
    RevokedSession,
    SentEmail,
    SyncCursor,
)


class SnapshotRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_if_new(self, number: int, updated_at: datetime, data: dict[str, Any]) -> bool:
        existing = await self.session.scalar(
            select(DossierSnapshot.id).where(
                DossierSnapshot.number == number, DossierSnapshot.platform_updated_at == updated_at
            )
        )
        if existing is not None:
            return False
        self.session.add(DossierSnapshot(number=number, platform_updated_at=updated_at, data=data))
        return True

    async def list_for(self, number: int) -> list[DossierSnapshot]:
        rows = await self.session.scalars(
            select(DossierSnapshot).where(DossierSnapshot.number == number).order_by(DossierSnapshot.id)
        )
        return list(rows)


class RecordRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, number: int) -> DossierRecord | None:
        return await self.session.get(DossierRecord, number)

    async def upsert(self, number: int, demarche: int, **values: Any) -> DossierRecord:
        """Creates or updates the record; ``details`` keys merge into the existing ones."""
        details: dict[str, Any] = values.pop("details", None) or {}
        record = await self.get(number)
        if record is None:
            record = DossierRecord(number=number, demarche=demarche, details=details, **values)
            self.session.add(record)
        else:
            for key, value in values.items():
                setattr(record, key, value)
            record.details = {**(record.details or {}), **details}
        return record


class SentEmailRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key: str) -> SentEmail | None:
        return await self.session.get(SentEmail, key)

    def add(self, key: str, message_id: str, template: str, dossier_number: int | None) -> None:
        self.session.add(SentEmail(key=key, message_id=message_id, template=template,
                                   dossier_number=dossier_number))

    async def count_for(self, dossier_number: int) -> list[SentEmail]:
        return list(await self.session.scalars(
            select(SentEmail).where(SentEmail.dossier_number == dossier_number)
        ))


class CraMemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active_for_region(self, region: str) -> list[CraMember]:
        rows = await self.session.scalars(
            select(CraMember).where(CraMember.region == region, CraMember.active.is_(True))
            .order_by(CraMember.id)
        )
        return list(rows)

    async def get(self, member_id: str) -> CraMember | None:
        return await self.session.get(CraMember, member_id)

    async def upsert(self, member: dict[str, str]) -> None:
        existing = await self.get(member["id"])
        if existing is None:
            self.session.add(CraMember(**member))
        else:
            for key, value in member.items():
                setattr(existing, key, value)

    async def upsert_all(self, members: list[dict[str, str]]) -> None:
        """The whole directory in one statement per set of fields, ``INSERT … ON CONFLICT DO
        UPDATE``: atomic, so that processes loading it at the same time (three workers of
        ``ptce dev`` starting together) never both insert a member (a read, then an insert,
        did: UNIQUE constraint failed). Core statement: not for members already loaded in
        this session."""
        postgres = (await self.session.connection()).dialect.name == "postgresql"
        by_fields: dict[tuple[str, ...], list[dict[str, str]]] = {}
        for member in members:
            by_fields.setdefault(tuple(sorted(member)), []).append(member)
        for fields, rows in by_fields.items():
            updated = [name for name in fields if name != "id"]
            if postgres:
                pg = postgresql_insert(CraMember).values(rows)
                await self.session.execute(pg.on_conflict_do_update(
                    index_elements=[CraMember.id], set_={n: pg.excluded[n] for n in updated}))
            else:
                lite = sqlite_insert(CraMember).values(rows)
                await self.session.execute(lite.on_conflict_do_update(
                    index_elements=[CraMember.id], set_={n: lite.excluded[n] for n in updated}))


class SyncCursorRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_or_create(self, demarche: int) -> SyncCursor:
        cursor = await self.session.get(SyncCursor, demarche)
        if cursor is None:
            cursor = SyncCursor(demarche=demarche, cursor=None, last_seen={})
            self.session.add(cursor)
        return cursor


class IntakeListRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_or_create(self, demarche: int, name: str) -> IntakeListCursor:
        row = await self.session.get(IntakeListCursor, (demarche, name))
        if row is None:
            row = IntakeListCursor(demarche=demarche, list=name, cursor=None, seen={})
            self.session.add(row)
        return row


class AlertClaimRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def claim(self, key: str, now: datetime) -> None:
        """Fails with ``IntegrityError`` at commit when the key is already claimed."""
        self.session.add(AlertClaim(key=key, claimed_at=now))

    async def take_over(self, key: str, now: datetime, lease: timedelta) -> bool:
        """Claims ``key`` again when its claim is older than ``lease`` and its email was never
        recorded as sent: the sender died between its claim and its record (before the SMTP
        server's answer, or after it). One caller wins: the update is conditional."""
        sent = select(SentEmail.key).where(SentEmail.key == key).exists()
        result: CursorResult[Any] = await self.session.execute(  # type: ignore[assignment]
            update(AlertClaim)
            .where(AlertClaim.key == key, AlertClaim.claimed_at < now - lease, ~sent)
            .values(claimed_at=now))
        return result.rowcount == 1

    async def release(self, key: str) -> None:
        row = await self.session.get(AlertClaim, key)
        if row is not None:
            await self.session.delete(row)


class QuarantineRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, number: int) -> QuarantinedDossier | None:
        return await self.session.get(QuarantinedDossier, number)

    async def due(self, demarche: int, now: datetime) -> list[QuarantinedDossier]:
        return list(await self.session.scalars(
            select(QuarantinedDossier).where(QuarantinedDossier.demarche == demarche,
                                             QuarantinedDossier.next_attempt_at <= now)
            .order_by(QuarantinedDossier.number)))

    async def all(self, demarche: int) -> list[QuarantinedDossier]:
        return list(await self.session.scalars(
            select(QuarantinedDossier).where(QuarantinedDossier.demarche == demarche)
            .order_by(QuarantinedDossier.number)))

    async def record(self, demarche: int, number: int, error: str, now: datetime,
                     backoff: timedelta) -> QuarantinedDossier:
        """A new failure: the row's attempts and next attempt (``backoff`` doubling)."""
        row = await self.get(number)
        if row is None:
            row = QuarantinedDossier(number=number, demarche=demarche, error=error, attempts=1,
                                     first_seen_at=now, next_attempt_at=now + backoff)
            self.session.add(row)
            return row
        row.attempts += 1
        row.error = error
        row.next_attempt_at = now + backoff * (2 ** min(row.attempts - 1, 7))
        return row

    async def release(self, number: int) -> bool:
        row = await self.get(number)
        if row is None:
            return False
        await self.session.delete(row)
        return True


class CraLinkAccessRepository:
    """Audit rows of the CRA answer pages: appended, never updated."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, **values: Any) -> None:
        self.session.add(CraLinkAccess(**values))

    async def list_for(self, dossier_number: int | None = None, outcome: str | None = None
                       ) -> list[CraLinkAccess]:
        query = select(CraLinkAccess).order_by(CraLinkAccess.id)
        if dossier_number is not None:
            query = query.where(CraLinkAccess.dossier_number == dossier_number)
        if outcome is not None:
            query = query.where(CraLinkAccess.outcome == outcome)
        return list(await self.session.scalars(query))


class AgentRoleRepository:
    """The agents' roles, managed by admins; a principal is a lower-cased email or an OIDC sub."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def role_of(self, *principals: str) -> str | None:
        """The first principal found wins (the subject before the email)."""
        for principal in principals:
            if principal:
                row = await self.session.get(AgentRole, principal)
                if row is not None:
                    return row.role
        return None

    async def list_all(self) -> list[AgentRole]:
        return list(await self.session.scalars(select(AgentRole).order_by(AgentRole.principal)))

    async def put(self, principal: str, role: str, added_by: str) -> None:
        row = await self.session.get(AgentRole, principal)
        if row is None:
            self.session.add(AgentRole(principal=principal, role=role, added_by=added_by))
        else:
            row.role, row.added_by = role, added_by

    async def remove(self, principal: str) -> bool:
        row = await self.session.get(AgentRole, principal)
        if row is None:
            return False
        await self.session.delete(row)
        return True


class AdminActionRepository:
    """The audit of admin actions: append-only."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, **values: Any) -> AdminAction:
        row = AdminAction(**values)
        self.session.add(row)
        return row

    async def list_for(self, target: str | None = None) -> list[AdminAction]:
        query = select(AdminAction).order_by(AdminAction.id)
        if target is not None:
            query = query.where(AdminAction.target == target)
        return list(await self.session.scalars(query))


class RevokedSessionRepository:
    """Sessions ended by a sign-out, kept until their cookie would have expired anyway."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def revoked(self, sid: str) -> bool:
        return await self.session.get(RevokedSession, sid) is not None

    async def revoke(self, sid: str, now: datetime, expires_at: datetime) -> None:
        await self.session.execute(delete(RevokedSession).where(RevokedSession.expires_at < now))
        if await self.session.get(RevokedSession, sid) is None:
            self.session.add(RevokedSession(sid=sid, revoked_at=now, expires_at=expires_at))
