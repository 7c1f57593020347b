"""Databases for the tests: a SQLite file, or a scratch PostgreSQL database.

The PostgreSQL runs need ``TEST_DATABASE_URL`` (e.g.
``postgresql+asyncpg://postgres@127.0.0.1:5432/test``, what ``.ci/run`` sets): each run creates
its own database on that server and drops it afterwards, so reruns and parallel runs stay clean.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from core.db.migrate import upgrade_to_head

POSTGRES_SKIPPED = (
    "TEST_DATABASE_URL is not set: PostgreSQL runs skipped "
    "(e.g. TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
)


def postgres_server_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", "").strip()


def sqlite_url(directory: Path, name: str = "ptce.db") -> str:
    return f"sqlite+aiosqlite:///{directory / name}"


async def _on_server(*statements: str) -> None:
    admin = create_async_engine(make_url(postgres_server_url()), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await admin.dispose()


async def _create_database(prefix: str) -> tuple[str, str]:
    """A new empty database on the ``TEST_DATABASE_URL`` server: its name and URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    await _on_server(f'CREATE DATABASE "{name}"')
    url = make_url(postgres_server_url()).set(database=name)
    return name, url.render_as_string(hide_password=False)


def _drop(name: str) -> str:
    return f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'


@asynccontextmanager
async def scratch_postgres(prefix: str = "ptce_test") -> AsyncIterator[str]:
    """A new empty database on the ``TEST_DATABASE_URL`` server, dropped on exit."""
    name, url = await _create_database(prefix)
    try:
        yield url
    finally:
        await _on_server(_drop(name))


# This process's stack databases on PostgreSQL: created once, then emptied for the next stack
# (creating a database and migrating it cost ~0.5 s a stack, emptying one ~20 ms).
_IDLE: list[str] = []
_CREATED: list[str] = []


async def _create_stack_database() -> str:
    name, url = await _create_database("ptce_stack")
    _CREATED.append(name)
    return url


async def _emptied(url: str) -> bool:
    """Empties every table but the schema's revision; False if that cannot be done at once (a
    connection of an earlier test still holds a lock): the caller takes a new database."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("SET LOCAL lock_timeout = '2s'"))
            tables = (await conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"))).scalars().all()
            if tables:
                names = ", ".join(f'"{t}"' for t in tables)
                await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return True
    except Exception:
        return False
    finally:
        await engine.dispose()


# This process's SQLite stack database at head, copied for each stack (migrating a new file costs
# ~0.1 s of CPU a stack, copying it ~1 ms).
_SQLITE_TEMPLATE: list[Path] = []


async def _sqlite_from_template(directory: Path) -> str:
    if not _SQLITE_TEMPLATE:
        template = Path(tempfile.mkdtemp(prefix="ptce-sqlite-template-")) / "ptce.db"
        await upgrade_to_head(sqlite_url(template.parent))
        _SQLITE_TEMPLATE.append(template)
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_SQLITE_TEMPLATE[0], directory / "ptce.db")
    return sqlite_url(directory)


@asynccontextmanager
async def stack_database(directory: Path) -> AsyncIterator[str]:
    """The workflow-test stacks' database: a PostgreSQL one of this process, empty, when
    ``TEST_DATABASE_URL`` is set, else a SQLite file in ``directory``. Stacks open at the same
    time (a session's site and a test's stack) never share one."""
    if not postgres_server_url():
        yield await _sqlite_from_template(directory)
        return
    url = _IDLE.pop() if _IDLE else ""
    if not url or not await _emptied(url):
        url = await _create_stack_database()
    try:
        yield url
    finally:
        _IDLE.append(url)


def drop_stack_databases() -> None:
    """Drops this process's stack databases and its SQLite template (the session's end)."""
    for template in _SQLITE_TEMPLATE:
        shutil.rmtree(template.parent, ignore_errors=True)
    _SQLITE_TEMPLATE.clear()
    if _CREATED:
        asyncio.run(_on_server(*map(_drop, _CREATED)))
        _CREATED.clear()
