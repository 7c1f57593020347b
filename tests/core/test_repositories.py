"""Every repository, on SQLite and on PostgreSQL (``TEST_DATABASE_URL``), on a migrated schema."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.db.engine import Database, create_engine
from core.db.repositories import (
    AgentRoleRepository,
    CraLinkAccessRepository,
    CraMemberRepository,
    RecordRepository,
    SentEmailRepository,
    SnapshotRepository,
    SyncCursorRepository,
)
from core.db.seed import load_cra_members

MODIFIED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


async def test_a_snapshot_is_stored_once_per_platform_version(db: Database) -> None:
    async with db.unit_of_work() as s:
        assert await SnapshotRepository(s).add_if_new(12, MODIFIED, {"titre": "v1"})
    async with db.unit_of_work() as s:
        repo = SnapshotRepository(s)
        assert not await repo.add_if_new(12, MODIFIED, {"titre": "v1 again"})
        assert await repo.add_if_new(12, MODIFIED + timedelta(hours=1), {"titre": "v2"})
        assert await repo.add_if_new(13, MODIFIED, {"titre": "other"})
    async with db.unit_of_work() as s:
        snapshots = await SnapshotRepository(s).list_for(12)
    assert [snap.data["titre"] for snap in snapshots] == ["v1", "v2"]
    assert all(snap.stored_at is not None for snap in snapshots)


async def test_a_record_upsert_merges_details(db: Database) -> None:
    async with db.unit_of_work() as s:
        await RecordRepository(s).upsert(21, 1001, stage="received", details={"regions": ["53"]})
    async with db.unit_of_work() as s:
        await RecordRepository(s).upsert(21, 1001, stage="closed", outcome="laureat",
                                         decided_at=MODIFIED, details={"motif": "ok"})
    async with db.unit_of_work() as s:
        record = await RecordRepository(s).get(21)
    assert record is not None
    assert (record.stage, record.outcome) == ("closed", "laureat")
    assert record.details == {"regions": ["53"], "motif": "ok"}
    assert record.decided_at is not None
    assert record.decided_at.replace(tzinfo=record.decided_at.tzinfo or UTC) == MODIFIED


async def test_a_rolled_back_unit_of_work_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.unit_of_work() as s:
            await RecordRepository(s).upsert(22, 1001, stage="received")
            await s.flush()
            raise RuntimeError("activity failed")
    async with db.unit_of_work() as s:
        assert await RecordRepository(s).get(22) is None


async def test_sent_emails_are_found_by_key_and_dossier(db: Database) -> None:
    async with db.unit_of_work() as s:
        repo = SentEmailRepository(s)
        repo.add("31:ack", "<m1@ptce>", "acknowledgement", 31)
        repo.add("31:reminder-1", "<m2@ptce>", "reminder", 31)
        repo.add("bessii:weekly", "<m3@ptce>", "bessii_reminder", None)
    async with db.unit_of_work() as s:
        repo = SentEmailRepository(s)
        sent = await repo.get("31:ack")
        assert sent is not None and sent.message_id == "<m1@ptce>"
        assert await repo.get("31:unknown") is None
        assert sorted(e.key for e in await repo.count_for(31)) == ["31:ack", "31:reminder-1"]


async def test_cra_members_upsert_and_active_pairs_by_region(db: Database) -> None:
    member = {"id": "53-ess", "region": "53", "name": "Ess Bretagne", "email": "ess@bzh.test",
              "role": "correspondant ESS"}
    async with db.unit_of_work() as s:
        repo = CraMemberRepository(s)
        await repo.upsert(member)
        await repo.upsert({**member, "id": "53-cress", "name": "Cress", "role": "CRESS"})
        await repo.upsert({**member, "id": "76-ess", "region": "76"})
    async with db.unit_of_work() as s:
        await CraMemberRepository(s).upsert({**member, "email": "new@bzh.test"})
        retired = await CraMemberRepository(s).get("53-cress")
        assert retired is not None
        retired.active = False
    async with db.unit_of_work() as s:
        active = await CraMemberRepository(s).active_for_region("53")
    assert [(m.id, m.email) for m in active] == [("53-ess", "new@bzh.test")]


async def test_processes_loading_the_cra_directory_at_once_all_succeed(
        db: Database, database_url: str, tmp_path: Path) -> None:
    """Three workers of ``ptce dev`` start together and each loads the directory: a read then
    an insert made two of them fail (UNIQUE constraint) and exit."""
    directory = tmp_path / "members.json"
    members = [{"id": f"{r}-{role}", "region": r, "name": f"{role} {r}", "email": f"{role}@{r}.test",
                "role": role} for r in ("53", "76", "75") for role in ("ess", "cress")]
    directory.write_text(json.dumps({"members": members}))
    others = [Database(create_engine(database_url)) for _ in range(2)]
    try:
        loaded = await asyncio.gather(*(load_cra_members(d, directory) for d in [db, *others]))
    finally:
        for other in others:
            await other.dispose()
    assert loaded == [6, 6, 6]
    changed = [{**m, "email": "nouveau@53.test"} if m["id"] == "53-ess" else m for m in members]
    directory.write_text(json.dumps({"members": changed}))
    await load_cra_members(db, directory)
    async with db.unit_of_work() as s:
        active = await CraMemberRepository(s).active_for_region("53")
    assert [(m.id, m.email) for m in active] == [("53-cress", "cress@53.test"),
                                                 ("53-ess", "nouveau@53.test")]


async def test_the_sync_cursor_is_created_once_and_remembered(db: Database) -> None:
    async with db.unit_of_work() as s:
        cursor = await SyncCursorRepository(s).get_or_create(1001)
        assert cursor.cursor is None and cursor.last_seen == {}
        cursor.cursor, cursor.updated_since = "abc", MODIFIED
        cursor.last_seen = {"12": MODIFIED.isoformat()}
    async with db.unit_of_work() as s:
        again = await SyncCursorRepository(s).get_or_create(1001)
    assert again.cursor == "abc"
    assert again.last_seen == {"12": MODIFIED.isoformat()}


async def test_cra_link_accesses_are_appended_and_filtered(db: Database) -> None:
    async with db.unit_of_work() as s:
        repo = CraLinkAccessRepository(s)
        for outcome, dossier in (("ok", 41), ("expired", 41), ("ok", 42)):
            repo.add(at=MODIFIED, action="view", outcome=outcome, member_id="53-ess",
                     dossier_number=dossier, region="53", round=1,
                     token_fingerprint="f" * 32, client_hash="c" * 32)
    async with db.unit_of_work() as s:
        repo = CraLinkAccessRepository(s)
        assert len(await repo.list_for(dossier_number=41)) == 2
        assert [a.dossier_number for a in await repo.list_for(outcome="ok")] == [41, 42]


async def test_agent_roles_put_read_and_remove(db: Database) -> None:
    async with db.unit_of_work() as s:
        repo = AgentRoleRepository(s)
        await repo.put("agent@finances.gouv.fr", "agent", "admin@finances.gouv.fr")
        await repo.put("sub-123", "admin", "admin@finances.gouv.fr")
    async with db.unit_of_work() as s:
        repo = AgentRoleRepository(s)
        await repo.put("agent@finances.gouv.fr", "admin", "root@finances.gouv.fr")
        assert await repo.role_of("sub-123", "agent@finances.gouv.fr") == "admin"
        assert await repo.role_of("", "agent@finances.gouv.fr") == "admin"
        assert await repo.remove("sub-123")
    async with db.unit_of_work() as s:
        assert not await AgentRoleRepository(s).remove("sub-123")
    async with db.unit_of_work() as s:
        assert [r.principal for r in await AgentRoleRepository(s).list_all()] == [
            "agent@finances.gouv.fr"]
