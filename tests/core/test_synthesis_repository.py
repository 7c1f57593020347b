"""The synthesis tables keep the newest snapshot of a dossier, whatever the order its writes
arrive in, and mark the consultation rounds a snapshot no longer holds (SQLite, PostgreSQL)."""

from __future__ import annotations

from core.db.engine import Database, create_engine
from core.db.migrate import upgrade_to_head
from core.db.synthesis import SynthesisRepository
from core.domain.procedure import ConsultationStatus, Opinion
from core.domain.synthesis import ConsultationSynthesis, DossierSynthesis


def _snapshot(version: int, *consultations: ConsultationSynthesis) -> DossierSynthesis:
    return DossierSynthesis(version=version, regions=[c.region for c in consultations],
                            consultations=list(consultations))


async def test_the_newest_snapshot_wins_and_replaced_rounds_are_no_longer_current(
        database_url: str) -> None:
    await upgrade_to_head(database_url)
    db = Database(create_engine(database_url))
    first = ConsultationSynthesis(region="53", round=1, status=ConsultationStatus.ANSWERED,
                                  opinion=Opinion.UNFAVOURABLE)
    second = ConsultationSynthesis(region="53", round=2, status=ConsultationStatus.PENDING)
    try:
        async with db.unit_of_work() as session:
            assert await SynthesisRepository(session).save(7, "instruction", _snapshot(10, first))
        async with db.unit_of_work() as session:  # an admin sent it back: a new round
            assert await SynthesisRepository(session).save(7, "instruction", _snapshot(20, second))
        async with db.unit_of_work() as session:  # a late retry of the first write
            assert not await SynthesisRepository(session).save(7, "admissibility",
                                                               _snapshot(10, first))
        async with db.unit_of_work() as session:
            repo = SynthesisRepository(session)
            record = await repo.get(7)
            current = await repo.consultations_of(7)
            everything = await repo.consultations()
        assert record is not None and (record.version, record.stage) == (20, "instruction")
        assert [(c.round, c.status) for c in current] == [(2, "pending")]
        assert [(c.round, c.status) for c in everything] == [(2, "pending")]
    finally:
        await db.dispose()
