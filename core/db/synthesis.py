"""The synthesis tables: written from the dossier workflow's snapshots (newest version wins),
read in bulk for BESSII's synthesis page and exports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Row, String, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.tables import CraConsultationRecord, DossierSynthesisRecord
from core.domain.synthesis import ConsultationSynthesis, DossierSynthesis

# What the page reads: no ``data`` (admissibility, eligibility and decision texts), nor the
# opinions' texts unless an export asks for them.
DOSSIER_COLUMNS = (DossierSynthesisRecord.number, DossierSynthesisRecord.stage,
                   DossierSynthesisRecord.filed_at, DossierSynthesisRecord.project,
                   DossierSynthesisRecord.regions, DossierSynthesisRecord.fragile_territory,
                   DossierSynthesisRecord.eligibility_majority, DossierSynthesisRecord.outcome,
                   DossierSynthesisRecord.decided_at)
C = CraConsultationRecord
CONSULTATION_COLUMNS = (C.dossier_number, C.region, C.round, C.status, C.opinion,
                        C.appreciations, C.author, C.answered_at, C.invited_at, C.reminders_sent)
TEXT_COLUMNS = (C.motivation, C.criteria_assessment)


def _raw(columns: tuple[Any, ...]) -> list[Any]:
    """Bulk reads skip SQLAlchemy's per-value conversions of datetimes and JSON (on SQLite a
    regular expression per datetime): ``moment`` and ``document`` below finish the job."""
    return [type_coerce(c, String).label(c.key) if isinstance(c.type, DateTime | JSON) else c
            for c in columns]


def moment(value: datetime | str | None) -> datetime | None:
    """A datetime from a bulk read: ISO text (SQLite) or a datetime (PostgreSQL), in UTC."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def document(value: Any) -> Any:
    """JSON from a bulk read: text (as stored) or already decoded."""
    return json.loads(value) if isinstance(value, str) else value


def _consultation_values(c: ConsultationSynthesis) -> dict[str, Any]:
    return {"status": c.status.value, "opinion": c.opinion.value if c.opinion else None,
            "motivation": c.motivation, "criteria_assessment": c.criteria_assessment,
            "appreciations": {g.value: a.value for g, a in c.appreciations.items()},
            "author": c.author, "answered_at": c.answered_at, "amended_at": c.amended_at,
            "invited_at": c.invited_at, "deadline": c.deadline, "reminders_sent": c.reminders_sent,
            "current": True}


class SynthesisRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save(self, number: int, stage: str, snapshot: DossierSynthesis,
                   decided_at: datetime | None = None) -> bool:
        """Stores the snapshot unless a newer one is there (a retry arriving late); True if stored.

        The dossier's row is locked first (PostgreSQL), so two writes of one dossier serialize.
        """
        row = await self.session.get(DossierSynthesisRecord, number, with_for_update=True)
        if row is not None and row.version > snapshot.version:
            return False
        values: dict[str, Any] = {
            "version": snapshot.version, "stage": stage, "filed_at": snapshot.filed_at,
            "project": snapshot.project, "regions": list(snapshot.regions),
            "fragile_territory": snapshot.fragile_territory,
            "eligibility_majority": snapshot.eligibility_majority,
            "outcome": snapshot.decision.outcome.value if snapshot.decision else None,
            "data": snapshot.model_dump(mode="json", include={
                "structure", "territory", "admissibility", "eligibility", "decision"})}
        if decided_at is not None or snapshot.decision is None:
            values["decided_at"] = decided_at
        if row is None:
            self.session.add(DossierSynthesisRecord(number=number, **values))
        else:
            for key, value in values.items():
                setattr(row, key, value)
        existing = {(c.region, c.round): c for c in await self.session.scalars(
            select(CraConsultationRecord).where(CraConsultationRecord.dossier_number == number))}
        for consultation in snapshot.consultations:
            fields = _consultation_values(consultation)
            found = existing.pop((consultation.region, consultation.round), None)
            if found is None:
                self.session.add(CraConsultationRecord(
                    dossier_number=number, region=consultation.region, round=consultation.round,
                    **fields))
            else:
                for key, value in fields.items():
                    setattr(found, key, value)
        for superseded in existing.values():  # a replaced round, a region no longer concerned
            superseded.current = False
        return True

    async def dossiers(self) -> list[Row[Any]]:
        """Every dossier; datetimes and JSON as the driver gives them (``core.db.synthesis.raw``)."""
        return list(await self.session.execute(select(*_raw(DOSSIER_COLUMNS))))

    async def consultations(self, texts: bool = False) -> list[Row[Any]]:
        columns = (*CONSULTATION_COLUMNS, *TEXT_COLUMNS) if texts else CONSULTATION_COLUMNS
        query = select(*_raw(columns)).where(C.current.is_(True)).order_by(C.dossier_number)
        return list(await self.session.execute(query))

    async def get(self, number: int) -> DossierSynthesisRecord | None:
        return await self.session.get(DossierSynthesisRecord, number)

    async def consultations_of(self, number: int) -> list[CraConsultationRecord]:
        return list(await self.session.scalars(
            select(CraConsultationRecord).where(C.dossier_number == number, C.current.is_(True))))
