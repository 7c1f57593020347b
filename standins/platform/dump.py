"""The stand-in's full view of a dossier, for ``/_standin/`` (plain JSON, our field names)."""

from __future__ import annotations

from typing import Any

from standins.platform.clock import api_datetime, api_datetime_or_none
from standins.platform.context import Platform
from standins.platform.records import DossierRecord, MutationRecord


def dossier_summary(record: DossierRecord) -> dict[str, Any]:
    return {
        "number": record.number,
        "state": record.state,
        "usager_email": record.usager_email,
        "date_depot": api_datetime(record.depose_at),
        "date_derniere_modification": api_datetime(record.updated_at),
        "deleted": record.deleted_at is not None,  # purged
        "hidden": record.hidden_for_administration,  # deleted by the applicant, restorable
    }


def dossier_state(platform: Platform, record: DossierRecord) -> dict[str, Any]:
    demarche = platform.demarche
    messages = platform.store.messages(record.number)
    return {
        **dossier_summary(record),
        "updated_at_us": record.updated_at,
        "fields": {champ.field: record.champs.get(champ.id) for champ in demarche.champs if champ.field},
        "champs": record.champs,
        "annotations": {
            annotation.id: {
                "label": annotation.label,
                "value": record.annotations.get(annotation.id, {}).get("value"),
                "updated_at": api_datetime_or_none(
                    record.annotations.get(annotation.id, {}).get("updated_at")
                ),
            }
            for annotation in demarche.annotations
        },
        "motivation": record.motivation,
        "pending_correction": any(message.pending_correction for message in messages),
        "messages": [
            {
                "id": message.id,
                "email": message.email,
                "body": message.body,
                "created_at": api_datetime(message.created_at),
                "correction": None
                if message.correction_reason is None
                else {
                    "reason": message.correction_reason,
                    "resolved_at": api_datetime_or_none(message.correction_resolved_at),
                },
            }
            for message in messages
        ],
        "traitements": [
            {
                "state": traitement.state,
                "event": traitement.event,
                "date": api_datetime(traitement.processed_at),
                "motivation": traitement.motivation,
                "instructeur_email": traitement.instructeur_email,
            }
            for traitement in platform.store.traitements(record.number)
        ],
        "deletion": None
        if record.deleted_at is None
        else {"at": api_datetime(record.deleted_at), "reason": record.deleted_reason},
    }


def mutation_entry(entry: MutationRecord) -> dict[str, Any]:
    return {
        "id": entry.id,
        "name": entry.name,
        "dossier": entry.dossier_number,
        "input": entry.input,
        "at": api_datetime(entry.at),
    }
