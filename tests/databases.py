"""Databases for the tests: a SQLite file, or a scratch PostgreSQL database.

The PostgreSQL runs need ``TEST_DATABASE_URL`` (e.g.
``postgresql+asyncpg://postgres@127.0.0.1:5432/test``, what ``.ci/run`` sets): each run creates
its own database on that server and drops it afterwards, so reruns and parallel runs stay clean.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

POSTGRES_SKIPPED = (
    "TEST_DATABASE_URL is not set: PostgreSQL runs skipped "
    "(e.g. TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
)


def postgres_server_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", "").strip()


def sqlite_url(directory: Path, name: str = "ptce.db") -> str:
    return f"sqlite+aiosqlite:///{directory / name}"


@asynccontextmanager
async def scratch_postgres(prefix: str = "ptce_test") -> AsyncIterator[str]:
    """A new empty database on the ``TEST_DATABASE_URL`` server, dropped on exit."""
    server = make_url(postgres_server_url())
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@asynccontextmanager
async def stack_database(directory: Path) -> AsyncIterator[str]:
    """The workflow-test stacks' database: a scratch PostgreSQL one when ``TEST_DATABASE_URL``
    is set, else a SQLite file in ``directory``."""
    if not postgres_server_url():
        yield sqlite_url(directory)
        return
    async with scratch_postgres("ptce_stack") as url:
        yield url
