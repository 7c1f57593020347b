"""What the store keeps, as plain frozen records (instants in microseconds, UTC)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any, Literal

EN_CONSTRUCTION = "en_construction"
EN_INSTRUCTION = "en_instruction"
ACCEPTE = "accepte"
REFUSE = "refuse"
SANS_SUITE = "sans_suite"

KeysetColumn = Literal["updated_at", "depose_at", "deleted_at", "hidden_by_user_at"]


@dataclass(frozen=True, slots=True)
class DossierRecord:
    number: int
    state: str
    usager_email: str
    champs: dict[str, Any]
    annotations: dict[str, dict[str, Any]]  # annotation id -> {"value": ..., "updated_at": us}
    motivation: str | None
    depose_at: int
    updated_at: int
    en_construction_at: int
    en_instruction_at: int | None
    processed_at: int | None
    champs_updated_at: int
    annotations_updated_at: int
    deleted_at: int | None  # purged: gone from the API, kept here for /_standin/ only
    deleted_reason: str | None
    hidden_by_user_at: int | None = None  # deleted by the applicant, restorable until purged
    hidden_reason: str | None = None
    groupe: int = 1  # the groupe instructeur the routing chose
    bad_data: bool = False  # getDossier answers a top-level ``invalid_null`` (a bad row)
    siret_degraded: bool = False  # API Entreprise data not fetched yet

    @classmethod
    def of(cls, row: sqlite3.Row) -> DossierRecord:
        values = dict(row)
        values["champs"] = json.loads(values["champs"])
        values["annotations"] = json.loads(values["annotations"])
        values["bad_data"] = bool(values.get("bad_data"))
        values["siret_degraded"] = bool(values.get("siret_degraded"))
        return cls(**values)

    @property
    def cursor_id(self) -> int:
        return self.number

    @property
    def hidden_for_administration(self) -> bool:
        """``Dossier#hidden_for_administration?`` (app/models/dossier.rb#L821-L823): a dossier
        the applicant deleted while ``en_construction`` is gone for instructeurs and the API."""
        return self.hidden_by_user_at is not None and self.state == EN_CONSTRUCTION

    @property
    def visible(self) -> bool:
        """``Dossier.visible_by_administration`` (app/models/dossier.rb#L243-L248)."""
        return self.deleted_at is None and not self.hidden_for_administration


@dataclass(frozen=True, slots=True)
class DeletedRecord:
    """A ``DeletedDossier`` row (app/models/deleted_dossier.rb), created at the purge."""

    id: int
    number: int
    state: str
    reason: str
    deleted_at: int

    @property
    def cursor_id(self) -> int:
        return self.id  # the row's id, not the dossier's number (DeletedDossiersConnection)

    @classmethod
    def of(cls, row: sqlite3.Row) -> DeletedRecord:
        return cls(**dict(row))


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """An email the platform itself sent to the applicant (kept for inspection)."""

    id: int
    dossier_number: int
    to_email: str
    kind: str
    subject: str
    body: str
    created_at: int
    forwarded: int = 0  # handed to the local mailbox (``make run``)

    @classmethod
    def of(cls, row: sqlite3.Row) -> NotificationRecord:
        return cls(**dict(row))


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API token (app/models/api_token.rb): expiry, allowed networks, write access."""

    token: str
    expires_at: int | None
    networks: list[str] | None  # CIDR ranges; None: none yet (the first caller's IP is pinned)
    requires_ip_filtering: bool
    write_access: bool

    @classmethod
    def of(cls, row: sqlite3.Row) -> TokenRecord:
        values = dict(row)
        networks = values["networks"]
        return cls(token=values["token"], expires_at=values["expires_at"],
                   networks=None if networks is None else json.loads(networks),
                   requires_ip_filtering=bool(values["requires_ip_filtering"]),
                   write_access=bool(values["write_access"]))


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: int
    dossier_number: int
    email: str
    body: str
    created_at: int
    correction_reason: str | None
    correction_resolved_at: int | None

    @property
    def pending_correction(self) -> bool:
        return self.correction_reason is not None and self.correction_resolved_at is None

    @classmethod
    def of(cls, row: sqlite3.Row) -> MessageRecord:
        return cls(**dict(row))


@dataclass(frozen=True, slots=True)
class TraitementRecord:
    id: int
    dossier_number: int
    state: str
    event: str
    processed_at: int
    motivation: str | None
    instructeur_email: str | None

    @classmethod
    def of(cls, row: sqlite3.Row) -> TraitementRecord:
        return cls(**dict(row))


@dataclass(frozen=True, slots=True)
class MutationRecord:
    id: int
    name: str
    dossier_number: int
    input: dict[str, Any]
    at: int

    @classmethod
    def of(cls, row: sqlite3.Row) -> MutationRecord:
        values = dict(row)
        values["input"] = json.loads(values["input"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Fault:
    """The next ``remaining`` GraphQL requests wait ``delay_ms`` then fail with ``status``."""

    status: int | None
    remaining: int
    retry_after: int
    delay_ms: int


@dataclass(frozen=True, slots=True)
class Keyset:
    """One page of a cursor connection: keyset over ``(column, number)``."""

    column: KeysetColumn
    limit: int
    since: int | None = None
    state: str | None = None
    after: tuple[int, int] | None = None
    before: tuple[int, int] | None = None
    descending: bool = False
