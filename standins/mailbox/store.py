"""SQLite persistence for received messages and for the fault knob.

One short-lived connection per call: the SMTP side calls through a worker thread and the
web side runs sync routes in Starlette's thread pool, so nothing is shared between threads.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from standins.mailbox.parsing import IncomingMessage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    received_at TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT,
    raw BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    reject_count INTEGER NOT NULL
);
INSERT OR IGNORE INTO faults (id, reject_count) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS refused_recipients (address TEXT PRIMARY KEY);
"""

_COLUMNS = "id, message_id, sender, recipients, subject, received_at, text_body, html_body, raw"


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: int
    message_id: str
    sender: str
    recipients: list[str]
    subject: str
    received_at: datetime
    text: str
    html: str | None
    raw: bytes


class MailStore:
    """Messages and pending faults in one SQLite file that survives restarts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=10)
        # WAL (set once on the file) without a sync at each commit: a stand-in killed loses no
        # commit, only the machine losing power could lose the last ones; each write then costs
        # an append, not an fsync (the stand-ins answer every test and every chaos run).
        connection.execute("PRAGMA synchronous=NORMAL")
        try:
            with connection:  # commits on success, rolls back on error
                yield connection
        finally:
            connection.close()

    def add(self, message: IncomingMessage) -> StoredMessage:
        received_at = datetime.now(UTC)
        with self._connect() as connection:
            cursor = connection.execute(
                "INSERT INTO messages (message_id, sender, recipients, subject, received_at,"
                " text_body, html_body, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    message.message_id,
                    message.sender,
                    json.dumps(message.recipients, ensure_ascii=False),
                    message.subject,
                    received_at.isoformat(),
                    message.text,
                    message.html,
                    message.raw,
                ),
            )
            new_id = cursor.lastrowid
        assert new_id is not None
        return StoredMessage(
            id=new_id,
            message_id=message.message_id,
            sender=message.sender,
            recipients=list(message.recipients),
            subject=message.subject,
            received_at=received_at,
            text=message.text,
            html=message.html,
            raw=message.raw,
        )

    def search(self, to: str | None = None, subject: str | None = None) -> list[StoredMessage]:
        """Newest first; ``to`` and ``subject`` are case-insensitive substring filters."""
        with self._connect() as connection:
            rows = connection.execute(
                f"SELECT {_COLUMNS} FROM messages ORDER BY id DESC"
            ).fetchall()
        messages = [_to_message(row) for row in rows]
        if to:
            needle = to.casefold()
            messages = [m for m in messages if any(needle in r.casefold() for r in m.recipients)]
        if subject:
            needle = subject.casefold()
            messages = [m for m in messages if needle in m.subject.casefold()]
        return messages

    def get(self, message_id: int) -> StoredMessage | None:
        with self._connect() as connection:
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
        return None if row is None else _to_message(row)

    def clear(self) -> int:
        with self._connect() as connection:
            return connection.execute("DELETE FROM messages").rowcount

    def set_reject_count(self, count: int) -> None:
        with self._connect() as connection:
            connection.execute("UPDATE faults SET reject_count = ? WHERE id = 1", (count,))

    def reject_count(self) -> int:
        with self._connect() as connection:
            row = connection.execute("SELECT reject_count FROM faults WHERE id = 1").fetchone()
        return int(row[0])

    def set_refused(self, addresses: list[str]) -> None:
        with self._connect() as connection:
            connection.execute("DELETE FROM refused_recipients")
            connection.executemany("INSERT OR IGNORE INTO refused_recipients VALUES (?)",
                                   [(a.lower(),) for a in addresses])

    def refused(self) -> list[str]:
        with self._connect() as connection:
            rows = connection.execute("SELECT address FROM refused_recipients ORDER BY address")
            return [str(r[0]) for r in rows.fetchall()]

    def take_fault(self) -> bool:
        """Consume one pending fault atomically; True when this transaction must fail."""
        with self._connect() as connection:
            cursor = connection.execute(
                "UPDATE faults SET reject_count = reject_count - 1"
                " WHERE id = 1 AND reject_count > 0"
            )
            return cursor.rowcount == 1


def _to_message(row: tuple[object, ...]) -> StoredMessage:
    id_, message_id, sender, recipients, subject, received_at, text, html, raw = row
    assert isinstance(id_, int) and isinstance(recipients, str) and isinstance(received_at, str)
    assert isinstance(raw, bytes)
    return StoredMessage(
        id=id_,
        message_id=str(message_id),
        sender=str(sender),
        recipients=[str(r) for r in json.loads(recipients)],
        subject=str(subject),
        received_at=datetime.fromisoformat(received_at),
        text=str(text),
        html=None if html is None else str(html),
        raw=raw,
    )
