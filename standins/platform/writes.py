"""Writes, always inside ``PlatformStore.write()`` (one ``BEGIN IMMEDIATE`` transaction)."""

from __future__ import annotations

import json
from typing import Any

from standins.platform.clock import wall_clock_us
from standins.platform.reads import Reader
from standins.platform.records import (
    EN_CONSTRUCTION,
    EN_INSTRUCTION,
    DossierRecord,
    Fault,
    MessageRecord,
    TokenRecord,
)


class Writer(Reader):
    def tick(self) -> int:
        """Now, strictly after every instant already stored, so the keyset order is total."""
        latest = self.connection.execute(
            "SELECT MAX(COALESCE(MAX(updated_at), 0), COALESCE(MAX(deleted_at), 0),"
            " COALESCE(MAX(hidden_by_user_at), 0)) FROM dossiers"
        ).fetchone()[0]
        return max(wall_clock_us(), int(latest) + 1)

    def insert_dossier(self, usager_email: str, champs: dict[str, Any], now: int,
                       groupe: int = 1) -> int:
        cursor = self.connection.execute(
            "INSERT INTO dossiers (state, usager_email, champs, depose_at, updated_at,"
            " en_construction_at, champs_updated_at, annotations_updated_at, groupe)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (EN_CONSTRUCTION, usager_email, json.dumps(champs), now, now, now, now, now, groupe),
        )
        number = int(cursor.lastrowid or 0)
        self.add_traitement(number, EN_CONSTRUCTION, "depose", now)
        return number

    def update_champs(self, number: int, champs: dict[str, Any], now: int) -> None:
        self.connection.execute(
            "UPDATE dossiers SET champs = ?, champs_updated_at = ?, updated_at = ? WHERE number = ?",
            (json.dumps(champs), now, now, number),
        )

    def set_annotations(self, number: int, annotations: dict[str, Any], now: int) -> None:
        self.connection.execute(
            "UPDATE dossiers SET annotations = ?, annotations_updated_at = ?, updated_at = ?"
            " WHERE number = ?",
            (json.dumps(annotations), now, now, number),
        )

    def set_state(self, number: int, state: str, now: int, *, motivation: str | None = None) -> None:
        """Move to ``state`` and stamp the matching ``datePassage…``/``dateTraitement``."""
        stamp = {
            EN_CONSTRUCTION: "en_construction_at",
            EN_INSTRUCTION: "en_instruction_at",
        }.get(state, "processed_at")
        self.connection.execute(
            f"UPDATE dossiers SET state = ?, motivation = ?, {stamp} = ?, updated_at = ? WHERE number = ?",
            (state, motivation, now, now, number),
        )

    def touch(self, number: int, now: int) -> None:
        self.connection.execute("UPDATE dossiers SET updated_at = ? WHERE number = ?", (now, number))

    def hide(self, number: int, reason: str, now: int) -> None:
        """``Dossier#hide_and_keep_track!`` by the applicant (app/models/dossier.rb#L893-L901)."""
        self.connection.execute(
            "UPDATE dossiers SET hidden_by_user_at = ?, hidden_reason = ?, updated_at = ?"
            " WHERE number = ?", (now, reason, now, number))

    def restore(self, number: int, now: int) -> None:
        """``Dossier#restore`` by the applicant (#L920-L940): an update, so ``updated_at`` moves."""
        self.connection.execute(
            "UPDATE dossiers SET hidden_by_user_at = NULL, hidden_reason = NULL, updated_at = ?"
            " WHERE number = ?", (now, number))

    def purge(self, record: DossierRecord, reason: str, now: int) -> None:
        """``Dossier#purge_discarded`` (#L1044-L1052): a ``DeletedDossier`` row, then the dossier
        is gone. ``DeletedDossier.create_from_dossier`` back-dates ``deleted_at`` to the
        applicant's deletion (app/models/deleted_dossier.rb#L29-L36)."""
        hidden = record.hidden_by_user_at if record.state == EN_CONSTRUCTION else None
        self.connection.execute(
            "INSERT INTO deleted_dossiers (number, state, reason, deleted_at) VALUES (?, ?, ?, ?)",
            (record.number, record.state, reason, hidden or now))
        self.connection.execute(
            "UPDATE dossiers SET deleted_at = ?, deleted_reason = ? WHERE number = ?",
            (now, reason, record.number))

    def set_flags(self, number: int, **flags: bool) -> None:
        for name in ("bad_data", "siret_degraded"):
            if name in flags:
                self.connection.execute(f"UPDATE dossiers SET {name} = ? WHERE number = ?",
                                        (int(flags[name]), number))

    def add_notification(self, number: int, to_email: str, kind: str, subject: str, body: str,
                         now: int) -> None:
        self.connection.execute(
            "INSERT INTO notifications (dossier_number, to_email, kind, subject, body, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)", (number, to_email, kind, subject, body, now))

    def save_token(self, token: TokenRecord) -> None:
        self.connection.execute(
            "INSERT INTO tokens (token, expires_at, networks, requires_ip_filtering, write_access)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (token) DO UPDATE SET expires_at ="
            " excluded.expires_at, networks = excluded.networks, requires_ip_filtering ="
            " excluded.requires_ip_filtering, write_access = excluded.write_access",
            (token.token, token.expires_at,
             None if token.networks is None else json.dumps(token.networks),
             int(token.requires_ip_filtering), int(token.write_access)))

    def delete_token(self, token: str) -> None:
        self.connection.execute("DELETE FROM tokens WHERE token = ?", (token,))

    def set_member(self, groupe: int, instructeur_id: str, member: bool) -> None:
        if member:
            self.connection.execute(
                "INSERT OR IGNORE INTO groupe_members (groupe, instructeur_id) VALUES (?, ?)",
                (groupe, instructeur_id))
        else:
            self.connection.execute(
                "DELETE FROM groupe_members WHERE groupe = ? AND instructeur_id = ?",
                (groupe, instructeur_id))

    def add_traitement(
        self,
        number: int,
        state: str,
        event: str,
        now: int,
        *,
        motivation: str | None = None,
        instructeur_email: str | None = None,
    ) -> None:
        self.connection.execute(
            "INSERT INTO traitements (dossier_number, state, event, processed_at, motivation,"
            " instructeur_email) VALUES (?, ?, ?, ?, ?, ?)",
            (number, state, event, now, motivation, instructeur_email),
        )

    def add_message(
        self, number: int, email: str, body: str, now: int, correction: str | None
    ) -> MessageRecord:
        cursor = self.connection.execute(
            "INSERT INTO messages (dossier_number, email, body, created_at, correction_reason)"
            " VALUES (?, ?, ?, ?, ?)",
            (number, email, body, now, correction),
        )
        return MessageRecord(int(cursor.lastrowid or 0), number, email, body, now, correction, None)

    def resolve_corrections(self, number: int, now: int) -> None:
        self.connection.execute(
            "UPDATE messages SET correction_resolved_at = ? WHERE dossier_number = ?"
            " AND correction_reason IS NOT NULL AND correction_resolved_at IS NULL",
            (now, number),
        )

    def log_mutation(self, name: str, number: int, payload: dict[str, Any], now: int) -> None:
        self.connection.execute(
            "INSERT INTO mutations (name, dossier_number, input, at) VALUES (?, ?, ?, ?)",
            (name, number, json.dumps(payload, default=str, ensure_ascii=False), now),
        )

    def set_fault(self, fault: Fault) -> None:
        self.connection.execute(
            "UPDATE faults SET status = ?, remaining = ?, retry_after = ?, delay_ms = ? WHERE id = 1",
            (fault.status, fault.remaining, fault.retry_after, fault.delay_ms),
        )

    def take_fault(self) -> Fault | None:
        """Consume one pending fault, if any."""
        fault = self.fault()
        if fault.remaining <= 0:
            return None
        self.connection.execute("UPDATE faults SET remaining = remaining - 1 WHERE id = 1")
        return fault
