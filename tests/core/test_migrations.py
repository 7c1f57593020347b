"""The models and the migrations agree, on SQLite and on PostgreSQL (``TEST_DATABASE_URL``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from core.db.engine import Database, create_engine
from core.db.migrate import (
    BASELINE,
    BASELINE_TABLES,
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
    upgrade_to_head,
)
from core.db.repositories import RecordRepository
from core.db.tables import Base


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def _run(url: str, fn: Any) -> Any:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


def test_one_head_and_a_linear_history() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert script.get_base() == "0001"


async def test_fresh_database_upgraded_to_head_matches_the_models(database_url: str) -> None:
    await upgrade_to_head(database_url)

    assert await current_revision(database_url) == head_revision()
    assert await _run(database_url, _differences) == []
    tables = await _run(database_url, lambda c: set(inspect(c).get_table_names()))
    assert set(Base.metadata.tables) <= tables


async def test_upgrade_is_idempotent_and_keeps_data(database_url: str) -> None:
    await upgrade_to_head(database_url)
    db = Database(create_engine(database_url))
    try:
        async with db.unit_of_work() as session:
            await RecordRepository(session).upsert(7, 1001, stage="received")
    finally:
        await db.dispose()

    await upgrade_to_head(database_url)  # a restart

    db = Database(create_engine(database_url))
    try:
        async with db.unit_of_work() as session:
            record = await RecordRepository(session).get(7)
            assert record is not None and record.stage == "received"
    finally:
        await db.dispose()


async def test_concurrent_start_ups_migrate_once(database_url: str) -> None:
    # `make run` starts the worker and the API together; production scales workers.
    await asyncio.gather(*(upgrade_to_head(database_url) for _ in range(3)))
    assert await current_revision(database_url) == head_revision()


async def test_downgrade_to_base_and_back(database_url: str) -> None:
    await upgrade_to_head(database_url)

    def downgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    await _run(database_url, downgrade)
    remaining = await _run(database_url, lambda c: set(inspect(c).get_table_names()))
    assert remaining & set(Base.metadata.tables) == set()

    await upgrade_to_head(database_url)
    assert await _run(database_url, _differences) == []


async def test_a_database_made_before_migrations_is_adopted(database_url: str) -> None:
    """Databases built by ``create_all`` (before migrations) are stamped at the baseline."""

    def legacy(connection: Connection) -> None:  # one table missing: added since the last start
        # Only baseline tables: later revisions' tables never existed in the create_all days.
        Base.metadata.create_all(connection, tables=[
            t for name, t in Base.metadata.tables.items()
            if name in BASELINE_TABLES and name != "agent_roles"])
        connection.execute(text(
            "INSERT INTO dossier_records (number, demarche, stage, details, updated_at) "
            "VALUES (1, 1001, 'received', '{}', :now)"), {"now": datetime.now(UTC)})

    await _run(database_url, legacy)
    await upgrade_to_head(database_url)

    assert await current_revision(database_url) == head_revision()
    assert await _run(database_url, _differences) == []
    count = await _run(database_url, lambda c: c.execute(
        text("SELECT count(*) FROM dossier_records")).scalar_one())
    assert count == 1


async def test_the_baseline_tables_are_those_of_the_baseline_revision(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'baseline.db'}"
    engine = create_engine(url)
    try:
        await upgrade(engine, BASELINE)
    finally:
        await engine.dispose()
    tables = await _run(url, lambda c: set(inspect(c).get_table_names()))
    assert tables - {"alembic_version"} == set(BASELINE_TABLES)
