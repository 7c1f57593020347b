"""Nothing an admin does escapes the audit: a batch selected by a long query is recorded whole
(the target column keeps 200 characters, the query goes whole in the params), on SQLite and on
PostgreSQL, which enforces the column's length. Sign-outs are kept until the cookie expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.admin.audit import MAX_TARGET, record
from core.db.engine import Database
from core.db.repositories import AdminActionRepository, RevokedSessionRepository
from core.domain.procedure import Agent


async def test_a_batch_with_a_long_query_is_audited_whole(db: Database) -> None:
    query = "WorkflowType = 'DossierWorkflow' AND (" + " OR ".join(
        f"DossierNumber = {n}" for n in range(1000, 1060)) + ")"
    assert len(query) > 4 * MAX_TARGET
    await record(db, Agent(id="chef@finances.gouv.fr", name="Chef"), "batch_terminate", query,
                 "doublons", {"selected": ["dossier-1000"]}, "done")
    async with db.unit_of_work() as session:
        [row] = await AdminActionRepository(session).list_for()
    assert len(row.target) == MAX_TARGET and row.target.endswith("…")
    assert row.params["target"] == query and row.params["selected"] == ["dossier-1000"]


async def test_a_revoked_session_is_kept_until_its_cookie_expires(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.unit_of_work() as session:
        repo = RevokedSessionRepository(session)
        await repo.revoke("old", now - timedelta(hours=9), now - timedelta(hours=1))
        await repo.revoke("recent", now, now + timedelta(hours=8))
        await repo.revoke("recent", now, now + timedelta(hours=8))  # twice: one row
    async with db.unit_of_work() as session:
        repo = RevokedSessionRepository(session)
        assert await repo.revoked("recent")
        assert not await repo.revoked("old")  # expired anyway: purged at the next sign-out
