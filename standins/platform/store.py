"""SQLite persistence of the stand-in's dossiers, with reads and writes on one connection.

One short-lived connection per unit of work: GraphQL runs in Starlette's thread pool, so
nothing is shared between threads. Writes open with ``BEGIN IMMEDIATE``, so a mutation's
state check and its update are one atomic step even under concurrent requests.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from standins.platform.reads import Reader
from standins.platform.records import (
    DeletedRecord,
    DossierRecord,
    Fault,
    Keyset,
    MessageRecord,
    MutationRecord,
    NotificationRecord,
    TokenRecord,
    TraitementRecord,
)
from standins.platform.writes import Writer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dossiers (
    number INTEGER PRIMARY KEY AUTOINCREMENT,
    state TEXT NOT NULL,
    usager_email TEXT NOT NULL,
    champs TEXT NOT NULL,
    annotations TEXT NOT NULL DEFAULT '{}',
    motivation TEXT,
    depose_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    en_construction_at INTEGER NOT NULL,
    en_instruction_at INTEGER,
    processed_at INTEGER,
    champs_updated_at INTEGER NOT NULL,
    annotations_updated_at INTEGER NOT NULL,
    deleted_at INTEGER,
    deleted_reason TEXT,
    hidden_by_user_at INTEGER,
    hidden_reason TEXT,
    groupe INTEGER NOT NULL DEFAULT 1,
    bad_data INTEGER NOT NULL DEFAULT 0,
    siret_degraded INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS deleted_dossiers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number INTEGER NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    deleted_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier_number INTEGER NOT NULL,
    to_email TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    forwarded INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY,
    expires_at INTEGER,
    networks TEXT,
    requires_ip_filtering INTEGER NOT NULL DEFAULT 1,
    write_access INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS groupe_members (
    groupe INTEGER NOT NULL,
    instructeur_id TEXT NOT NULL,
    PRIMARY KEY (groupe, instructeur_id)
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier_number INTEGER NOT NULL REFERENCES dossiers (number),
    email TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    correction_reason TEXT,
    correction_resolved_at INTEGER
);
CREATE TABLE IF NOT EXISTS traitements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier_number INTEGER NOT NULL REFERENCES dossiers (number),
    state TEXT NOT NULL,
    event TEXT NOT NULL,
    processed_at INTEGER NOT NULL,
    motivation TEXT,
    instructeur_email TEXT
);
CREATE TABLE IF NOT EXISTS mutations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    dossier_number INTEGER NOT NULL,
    input TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    status INTEGER,
    remaining INTEGER NOT NULL,
    retry_after INTEGER NOT NULL,
    delay_ms INTEGER NOT NULL
);
INSERT OR IGNORE INTO faults (id, status, remaining, retry_after, delay_ms) VALUES (1, NULL, 0, 0, 0);
CREATE INDEX IF NOT EXISTS dossiers_updated ON dossiers (updated_at, number);
CREATE INDEX IF NOT EXISTS messages_dossier ON messages (dossier_number, id);
CREATE INDEX IF NOT EXISTS traitements_dossier ON traitements (dossier_number, id);
CREATE INDEX IF NOT EXISTS mutations_dossier ON mutations (dossier_number, id);
CREATE INDEX IF NOT EXISTS deleted_dossiers_at ON deleted_dossiers (deleted_at, id);
CREATE INDEX IF NOT EXISTS notifications_dossier ON notifications (dossier_number, id);
"""
# Columns added since the first release of the stand-in: an older ``var/platform.db`` gets them.
_ADDED_COLUMNS = {
    "hidden_by_user_at": "INTEGER", "hidden_reason": "TEXT",
    "groupe": "INTEGER NOT NULL DEFAULT 1", "bad_data": "INTEGER NOT NULL DEFAULT 0",
    "siret_degraded": "INTEGER NOT NULL DEFAULT 0",
}


class PlatformStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            known = {row[1] for row in connection.execute("PRAGMA table_info(dossiers)")}
            connection.executescript(_SCHEMA)
            for column, kind in _ADDED_COLUMNS.items():
                if known and column not in known:
                    connection.execute(f"ALTER TABLE dossiers ADD COLUMN {column} {kind}")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        connection.row_factory = sqlite3.Row
        # WAL (set once on the file) without a sync at each commit: a stand-in killed loses no
        # commit, only the machine losing power could lose the last ones; each write then costs
        # an append, not an fsync (the stand-ins answer every test and every chaos run).
        connection.execute("PRAGMA synchronous=NORMAL")
        try:
            yield connection
        finally:
            connection.close()

    @contextmanager
    def write(self) -> Iterator[Writer]:
        """One atomic unit of work; committed when the block exits without an exception."""
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield Writer(connection)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    # Reads, each on a fresh connection (a consistent snapshot per call).

    def dossier(self, number: int) -> DossierRecord | None:
        with self._connect() as connection:
            return Reader(connection).dossier(number)

    def dossiers(self) -> list[DossierRecord]:
        with self._connect() as connection:
            rows = connection.execute("SELECT * FROM dossiers ORDER BY number").fetchall()
        return [DossierRecord.of(row) for row in rows]

    def page(self, keyset: Keyset) -> list[DossierRecord]:
        with self._connect() as connection:
            return Reader(connection).page(keyset)

    def messages(self, number: int) -> list[MessageRecord]:
        with self._connect() as connection:
            return Reader(connection).messages(number)

    def traitements(self, number: int) -> list[TraitementRecord]:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT * FROM traitements WHERE dossier_number = ? ORDER BY id", (number,)
            ).fetchall()
        return [TraitementRecord.of(row) for row in rows]

    def mutations(self, number: int | None = None) -> list[MutationRecord]:
        query = "SELECT * FROM mutations"
        params: tuple[int, ...] = ()
        if number is not None:
            query, params = query + " WHERE dossier_number = ?", (number,)
        with self._connect() as connection:
            rows = connection.execute(query + " ORDER BY id", params).fetchall()
        return [MutationRecord.of(row) for row in rows]

    def fault(self) -> Fault:
        with self._connect() as connection:
            return Reader(connection).fault()

    def deleted_page(self, keyset: Keyset) -> list[DeletedRecord]:
        with self._connect() as connection:
            return Reader(connection).deleted_page(keyset)

    def notifications(self, number: int | None = None) -> list[NotificationRecord]:
        query, params = "SELECT * FROM notifications", tuple[int, ...]()
        if number is not None:
            query, params = query + " WHERE dossier_number = ?", (number,)
        with self._connect() as connection:
            rows = connection.execute(query + " ORDER BY id", params).fetchall()
        return [NotificationRecord.of(row) for row in rows]

    def tokens(self) -> list[TokenRecord]:
        with self._connect() as connection:
            rows = connection.execute("SELECT * FROM tokens ORDER BY token").fetchall()
        return [TokenRecord.of(row) for row in rows]

    def token(self, token: str) -> TokenRecord | None:
        with self._connect() as connection:
            return Reader(connection).token(token)

    def groupe_members(self) -> dict[int, list[str]]:
        with self._connect() as connection:
            return Reader(connection).groupe_members()
