"""Read queries shared by the store's one-off reads and by write transactions."""

from __future__ import annotations

import sqlite3

from standins.platform.records import DossierRecord, Fault, Keyset, MessageRecord

_KEYSET_COLUMNS = frozenset({"updated_at", "depose_at", "deleted_at"})


class Reader:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def dossier(self, number: int) -> DossierRecord | None:
        row = self.connection.execute("SELECT * FROM dossiers WHERE number = ?", (number,)).fetchone()
        return None if row is None else DossierRecord.of(row)

    def messages(self, number: int) -> list[MessageRecord]:
        rows = self.connection.execute(
            "SELECT * FROM messages WHERE dossier_number = ? ORDER BY id", (number,)
        ).fetchall()
        return [MessageRecord.of(row) for row in rows]

    def message(self, message_id: int) -> MessageRecord | None:
        row = self.connection.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        return None if row is None else MessageRecord.of(row)

    def pending_correction(self, number: int) -> MessageRecord | None:
        row = self.connection.execute(
            "SELECT * FROM messages WHERE dossier_number = ? AND correction_reason IS NOT NULL"
            " AND correction_resolved_at IS NULL ORDER BY id DESC LIMIT 1",
            (number,),
        ).fetchone()
        return None if row is None else MessageRecord.of(row)

    def page(self, keyset: Keyset) -> list[DossierRecord]:
        """Rows strictly after/before the cursor, ordered by ``(column, number)``."""
        column = keyset.column
        if column not in _KEYSET_COLUMNS:
            raise ValueError(f"not a keyset column: {column}")
        deleted = "IS NOT NULL" if column == "deleted_at" else "IS NULL"
        clauses, params = [f"deleted_at {deleted}"], list[object]()
        if keyset.since is not None:
            clauses.append(f"{column} >= ?")
            params.append(keyset.since)
        if keyset.state is not None:
            clauses.append("state = ?")
            params.append(keyset.state)
        if keyset.after is not None:
            clauses.append(f"({column}, number) > (?, ?)")
            params.extend(keyset.after)
        if keyset.before is not None:
            clauses.append(f"({column}, number) < (?, ?)")
            params.extend(keyset.before)
        direction = "DESC" if keyset.descending else "ASC"
        query = (
            f"SELECT * FROM dossiers WHERE {' AND '.join(clauses)}"
            f" ORDER BY {column} {direction}, number {direction} LIMIT ?"
        )
        rows = self.connection.execute(query, [*params, keyset.limit]).fetchall()
        return [DossierRecord.of(row) for row in rows]

    def fault(self) -> Fault:
        row = self.connection.execute(
            "SELECT status, remaining, retry_after, delay_ms FROM faults WHERE id = 1"
        ).fetchone()
        return Fault(**dict(row))
