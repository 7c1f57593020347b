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

KeysetColumn = Literal["updated_at", "depose_at", "deleted_at"]


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
    deleted_at: int | None
    deleted_reason: str | None

    @classmethod
    def of(cls, row: sqlite3.Row) -> DossierRecord:
        values = dict(row)
        values["champs"] = json.loads(values["champs"])
        values["annotations"] = json.loads(values["annotations"])
        return cls(**values)


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
