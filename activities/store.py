"""Persistence activities: snapshots, the dossier record, the CRA directory."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.db.engine import Database
from core.db.repositories import CraMemberRepository, RecordRepository, SnapshotRepository
from core.db.synthesis import SynthesisRepository
from core.domain.cra import CraContact
from core.domain.dossier import Dossier
from core.domain.synthesis import DossierSynthesis


class RecordUpdate(BaseModel):
    number: int
    demarche: int
    stage: str
    outcome: str | None = None
    motivation: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    # BESSII's synthesis, a full snapshot (absent from records written before it existed).
    synthesis: DossierSynthesis | None = None


class StoreActivities:
    def __init__(self, db: Database) -> None:
        self._db = db

    @activity.defn(name="store_snapshot")
    async def save_snapshot(self, dossier: Dossier) -> bool:
        """Stores this version of the dossier; False when that version was already stored."""
        async with self._db.unit_of_work() as session:
            return await SnapshotRepository(session).add_if_new(
                dossier.number, dossier.updated_at, dossier.model_dump(mode="json"))

    @activity.defn(name="store_record")
    async def save_record(self, update: RecordUpdate) -> None:
        values = update.model_dump(exclude={"number", "demarche", "synthesis"}, exclude_none=True)
        async with self._db.unit_of_work() as session:
            await RecordRepository(session).upsert(update.number, update.demarche, **values)
            if update.synthesis is not None:  # same transaction: the record and its synthesis
                await SynthesisRepository(session).save(update.number, update.stage,
                                                        update.synthesis, update.decided_at)

    @activity.defn(name="store_cra_pair")
    async def cra_pair(self, region: str) -> list[CraContact]:
        async with self._db.unit_of_work() as session:
            members = await CraMemberRepository(session).active_for_region(region)
        if not members:
            # An admin must add the region's pair; retrying lets the dossier resume by itself.
            raise ApplicationError(f"no active CRA member for region {region}",
                                   type="NoCraMembers")
        return [CraContact(id=m.id, region=m.region, name=m.name, email=m.email, role=m.role)
                for m in members]
