"""Schema upgrades through Alembic: at start-up, from ``ptce db upgrade``, and in the tests.

Several processes may start at once (``make run`` starts the worker and the API together,
production scales workers), so the upgrade runs under a lock: PostgreSQL's advisory lock, or a
file lock beside the SQLite file. The second process then finds the schema at head.
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.engine import create_engine
from core.db.tables import Base

ALEMBIC_INI = Path(__file__).parent / "alembic.ini"
# The revision matching the schema that `create_all` built before migrations existed, and its
# tables: a database from those days may lack the newest of them (its process never restarted).
BASELINE = "0001"
BASELINE_TABLES = ("agent_roles", "cra_link_accesses", "cra_members", "dossier_records",
                   "dossier_snapshots", "sent_emails", "sync_cursors")
_PG_LOCK_KEY = 0x70746365  # "ptce": one advisory lock for schema upgrades


def alembic_config() -> Config:
    return Config(str(ALEMBIC_INI))


@functools.cache
def head_revision() -> str | None:
    """The newest revision of the migrations this code ships (read once: Alembic executes every
    revision file to find it)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    if revision == "head" and (
            MigrationContext.configure(connection).get_current_revision() == head_revision()):
        return  # at head already (every start but the first): nothing for Alembic to load
    config = alembic_config()
    config.attributes["connection"] = connection
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" not in tables and tables & set(Base.metadata.tables):
        # A database created by `create_all` (before migrations): completed, then stamped at
        # the baseline. Valid while these tables keep their baseline shape in tables.py; once a
        # later revision alters one of them, such old databases must be rebuilt instead.
        Base.metadata.create_all(connection, tables=[
            Base.metadata.tables[name] for name in BASELINE_TABLES if name not in tables])
        command.stamp(config, BASELINE)
    command.upgrade(config, revision)


@asynccontextmanager
async def _sqlite_file_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    lock_path = Path(f"{database}.migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock_file:
        await asyncio.to_thread(fcntl.flock, lock_file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with _sqlite_file_lock(engine), engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)


async def upgrade_to_head(url: str) -> None:
    """Brings the database at ``url`` to the newest revision (creates it on a fresh machine)."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def current_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision())
    finally:
        await engine.dispose()


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)
