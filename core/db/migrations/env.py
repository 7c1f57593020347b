"""Alembic environment.

Two ways in: ``upgrade_to_head`` (start-up, ``ptce db``, tests) hands over an open connection in
``config.attributes["connection"]``; the ``alembic`` command line builds an async engine from
the URL (``-x url=…``, ``sqlalchemy.url``, else the service settings).
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from core.db.engine import create_engine
from core.db.tables import Base
from core.settings import get_settings

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return (context.get_x_argument(as_dictionary=True).get("url")
            or config.get_main_option("sqlalchemy.url")
            or get_settings().effective_database_url)


def _configure(**options: object) -> None:
    # Batch mode: SQLite cannot ALTER most things, Alembic rebuilds the table instead; on
    # PostgreSQL the same operations are plain ALTERs. compare_type: column type changes count.
    context.configure(target_metadata=target_metadata, render_as_batch=True, compare_type=True,
                      **options)  # type: ignore[arg-type]


def _run(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def main() -> None:
    if context.is_offline_mode():  # `alembic upgrade head --sql`: print the SQL
        _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
        with context.begin_transaction():
            context.run_migrations()
        return
    shared: Connection | None = config.attributes.get("connection")
    if shared is not None:
        _run(shared)
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    asyncio.run(_run_with_own_engine(_url()))


main()
