"""SQLAlchemy 2 tables. Personal data stays here and in Temporal payloads, never in logs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints: Alembic can then alter them later, SQLite's batch mode included.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class DossierSnapshot(Base):
    """Each version of a dossier as fetched from the platform, keyed by its last-modified date."""

    __tablename__ = "dossier_snapshots"
    __table_args__ = (UniqueConstraint("number", "platform_updated_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[int] = mapped_column(Integer, index=True)
    platform_updated_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]
    stored_at: Mapped[datetime] = mapped_column(server_default=func.now())


class DossierRecord(Base):
    """The service's current view of a dossier, and its final record once decided."""

    __tablename__ = "dossier_records"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    demarche: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str | None] = mapped_column(String(20))
    motivation: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class DossierSynthesisRecord(Base):
    """BESSII's synthesis of a dossier (core.domain.synthesis): the newest snapshot its workflow
    wrote; columns for what the synthesis filters and sorts on, the rest in ``data``."""

    __tablename__ = "dossier_syntheses"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
    stage: Mapped[str] = mapped_column(String(40))
    filed_at: Mapped[datetime | None] = mapped_column(index=True)
    project: Mapped[str | None] = mapped_column(String(300))
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    fragile_territory: Mapped[bool | None] = mapped_column(Boolean)
    eligibility_majority: Mapped[bool | None] = mapped_column(Boolean)
    outcome: Mapped[str | None] = mapped_column(String(20))
    decided_at: Mapped[datetime | None] = mapped_column(index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # admissibility, eligibility…


class CraConsultationRecord(Base):
    """One CRA consultation of a dossier (region, round), as the dossier's last snapshot says.

    ``current`` is False for a round an admin replaced or a region no longer concerned.
    """

    __tablename__ = "cra_consultation_records"

    dossier_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    region: Mapped[str] = mapped_column(String(3), primary_key=True)
    round: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(20))
    opinion: Mapped[str | None] = mapped_column(String(40))
    motivation: Mapped[str | None] = mapped_column(Text)
    criteria_assessment: Mapped[str | None] = mapped_column(Text)
    appreciations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    author: Mapped[str | None] = mapped_column(String(400))
    answered_at: Mapped[datetime | None]
    amended_at: Mapped[datetime | None]
    invited_at: Mapped[datetime | None]
    deadline: Mapped[datetime | None]
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)


class SentEmail(Base):
    """One row per email actually handed to SMTP: retries of an activity never send twice."""

    __tablename__ = "sent_emails"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(300))
    template: Mapped[str] = mapped_column(String(80))
    dossier_number: Mapped[int | None] = mapped_column(Integer, index=True)
    sent_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CraMember(Base):
    __tablename__ = "cra_members"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    region: Mapped[str] = mapped_column(String(3), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)


class SyncCursor(Base):
    """Where the intake of a démarche stands in ``dossiers`` (the changed dossiers)."""

    __tablename__ = "sync_cursors"

    demarche: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cursor: Mapped[str | None] = mapped_column(String(300))
    updated_since: Mapped[datetime | None]
    last_seen: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # number -> edge cursor


class IntakeListCursor(Base):
    """Where the intake stands in the platform's other lists of a démarche:
    ``pendingDeletedDossiers`` ("pending") and ``deletedDossiers`` ("deleted")."""

    __tablename__ = "intake_list_cursors"

    demarche: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    list: Mapped[str] = mapped_column(String(20), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(300))
    seen: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # number -> edge cursor


class AlertClaim(Base):
    """An alert to the admins claimed by one worker (its key: cause and day): several workers
    meeting the same trouble at once send one email, not one each."""

    __tablename__ = "alert_claims"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(server_default=func.now())


class QuarantinedDossier(Base):
    """A dossier the intake could not read or map: set aside, retried on its own, alerted;
    the rest of the démarche goes on. ``error`` is English and carries no personal data."""

    __tablename__ = "intake_quarantine"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    demarche: Mapped[int] = mapped_column(Integer, index=True)
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]


class CraLinkAccess(Base):
    """Audit of the CRA answer pages: one row per view or submission, whatever its outcome.

    Never the token itself (a fingerprint), never the client address (a keyed hash).
    """

    __tablename__ = "cra_link_accesses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(20))  # view | submit
    outcome: Mapped[str] = mapped_column(String(30), index=True)
    member_id: Mapped[str | None] = mapped_column(String(80), index=True)
    dossier_number: Mapped[int | None] = mapped_column(Integer, index=True)
    region: Mapped[str | None] = mapped_column(String(3))
    round: Mapped[int | None] = mapped_column(Integer)
    token_fingerprint: Mapped[str] = mapped_column(String(32))
    client_hash: Mapped[str] = mapped_column(String(32))


class AgentRole(Base):
    """Who may use BESSII's pages: an email or an OIDC subject, and its role (agent, admin)."""

    __tablename__ = "agent_roles"

    principal: Mapped[str] = mapped_column(String(320), primary_key=True)  # lower-cased email or sub
    role: Mapped[str] = mapped_column(String(20))
    added_by: Mapped[str] = mapped_column(String(320))
    added_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AdminAction(Base):
    """Audit of every admin action: who, when, what (on which case), why, and the result."""

    __tablename__ = "admin_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(320), index=True)
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(200), index=True)  # a workflow id
    reason: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[str] = mapped_column(String(20))  # done | refused | failed | dry_run
    detail: Mapped[str | None] = mapped_column(Text)


class RevokedSession(Base):
    """Agents' sessions ended by a sign-out: the signed cookie alone no longer opens anything
    (a copy of it, stolen or left in another browser, is refused until it would have expired)."""

    __tablename__ = "revoked_sessions"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    revoked_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)  # then the row may go
