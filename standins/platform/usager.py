"""What applicants (and the platform's own housekeeping) do to dossiers outside the API:
file a dossier, edit it while it is ``en_construction``, delete it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from standins.platform.context import Platform
from standins.platform.fields import champ_values
from standins.platform.records import EN_CONSTRUCTION, DossierRecord
from standins.platform.rules import STATE_LABELS

DELETION_REASONS = frozenset(
    {
        "user_request",
        "manager_request",
        "instructeur_request",
        "expired",
        "user_expired",
        "user_removed",
        "procedure_removed",
    }
)


class DossierNotFound(LookupError):
    pass


class DossierNotEditable(RuntimeError):
    pass


def deposer(platform: Platform, usager_email: str, fields: Mapping[str, Any]) -> int:
    """File a dossier: it arrives ``en_construction``, with a ``depose`` traitement."""
    champs = champ_values(platform.demarche, fields)
    with platform.store.write() as tx:
        return tx.insert_dossier(usager_email, champs, tx.tick())


def modifier(platform: Platform, number: int, fields: Mapping[str, Any]) -> DossierRecord:
    """The applicant edits answers; this resolves a pending correction request."""
    champs = champ_values(platform.demarche, fields)
    with platform.store.write() as tx:
        record = _existing(tx.dossier(number))
        if record.state != EN_CONSTRUCTION:
            label = STATE_LABELS[record.state]
            raise DossierNotEditable(f"Le dossier n’est plus modifiable par l’usager : il est {label}")
        now = tx.tick()
        tx.update_champs(number, {**record.champs, **champs}, now)
        tx.resolve_corrections(number, now)
    return _existing(platform.store.dossier(number))


def supprimer(platform: Platform, number: int, reason: str = "user_request") -> None:
    if reason not in DELETION_REASONS:
        raise ValueError(f"Motif de suppression inconnu : {reason}")
    with platform.store.write() as tx:
        _existing(tx.dossier(number))
        tx.mark_deleted(number, reason, tx.tick())


def _existing(record: DossierRecord | None) -> DossierRecord:
    if record is None or record.deleted_at is not None:
        raise DossierNotFound("Dossier introuvable")
    return record
