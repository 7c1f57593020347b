"""Read queries shared by the store's one-off reads and by write transactions."""

from __future__ import annotations

import sqlite3

from standins.platform.records import (
    EN_CONSTRUCTION,
    DeletedRecord,
    DossierRecord,
    Fault,
    Keyset,
    MessageRecord,
    TokenRecord,
)

_KEYSET_COLUMNS = frozenset({"updated_at", "depose_at", "hidden_by_user_at"})
# ``Dossier.visible_by_administration`` (app/models/dossier.rb#L243-L248): not purged, and not
# deleted by the applicant while en construction (a deleted dossier past that stage stays).
_VISIBLE = f"deleted_at IS NULL AND (hidden_by_user_at IS NULL OR state != '{EN_CONSTRUCTION}')"
# ``Dossier.hidden_for_administration`` (#L250-L252): what ``pendingDeletedDossiers`` lists.
_HIDDEN = f"deleted_at IS NULL AND hidden_by_user_at IS NOT NULL AND state = '{EN_CONSTRUCTION}'"


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
        clauses = [_HIDDEN if column == "hidden_by_user_at" else _VISIBLE]
        rows = self._keyset("dossiers", "number", clauses, keyset)
        return [DossierRecord.of(row) for row in rows]

    def deleted_page(self, keyset: Keyset) -> list[DeletedRecord]:
        """``deletedDossiers``: ``DeletedDossier`` rows by ``(deleted_at, id)``."""
        return [DeletedRecord.of(row) for row in self._keyset("deleted_dossiers", "id", [], keyset)]

    def _keyset(self, table: str, key: str, clauses: list[str], keyset: Keyset) -> list[sqlite3.Row]:
        column = keyset.column
        params = list[object]()
        if keyset.since is not None:
            clauses.append(f"{column} >= ?")
            params.append(keyset.since)
        if keyset.state is not None:
            clauses.append("state = ?")
            params.append(keyset.state)
        if keyset.after is not None:
            clauses.append(f"({column}, {key}) > (?, ?)")
            params.extend(keyset.after)
        if keyset.before is not None:
            clauses.append(f"({column}, {key}) < (?, ?)")
            params.extend(keyset.before)
        direction = "DESC" if keyset.descending else "ASC"
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        query = (
            f"SELECT * FROM {table}{where}"
            f" ORDER BY {column} {direction}, {key} {direction} LIMIT ?"
        )
        return self.connection.execute(query, [*params, keyset.limit]).fetchall()

    def token(self, token: str) -> TokenRecord | None:
        row = self.connection.execute("SELECT * FROM tokens WHERE token = ?", (token,)).fetchone()
        return None if row is None else TokenRecord.of(row)

    def groupe_members(self) -> dict[int, list[str]]:
        members: dict[int, list[str]] = {}
        for row in self.connection.execute(
                "SELECT groupe, instructeur_id FROM groupe_members ORDER BY groupe, instructeur_id"):
            members.setdefault(int(row[0]), []).append(str(row[1]))
        return members

    def fault(self) -> Fault:
        row = self.connection.execute(
            "SELECT status, remaining, retry_after, delay_ms FROM faults WHERE id = 1"
        ).fetchone()
        return Fault(**dict(row))
