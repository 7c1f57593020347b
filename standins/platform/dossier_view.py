"""A dossier, its messages, traitements and annotations, as GraphQL-walkable dicts."""

from __future__ import annotations

from typing import Any

from standins.platform import views
from standins.platform.champs import champ_view, file_url
from standins.platform.clock import api_datetime, api_datetime_or_none
from standins.platform.context import Platform
from standins.platform.demarche import ChampDefinition
from standins.platform.ids import encode_id
from standins.platform.records import (
    DeletedRecord,
    DossierRecord,
    MessageRecord,
    TraitementRecord,
)


def message_view(record: MessageRecord) -> dict[str, Any]:
    correction = None
    if record.correction_reason is not None:
        correction = {
            "reason": record.correction_reason,
            "dateResolution": api_datetime_or_none(record.correction_resolved_at),
        }
    return {
        "id": encode_id("Commentaire", record.id),
        "email": record.email,
        "body": record.body,
        "createdAt": api_datetime(record.created_at),
        "attachments": [],
        "correction": correction,
    }


def traitement_view(record: TraitementRecord) -> dict[str, Any]:
    return {
        "id": encode_id("Traitement", record.id),
        "state": record.state,  # deprecated in the schema: the service reads ``event``
        "event": record.event,
        "dateTraitement": api_datetime(record.processed_at),
        "emailAgentTraitant": record.instructeur_email,
        "motivation": record.motivation,
        "changedColumns": [],
    }


def annotation_view(platform: Platform, record: DossierRecord, champ: ChampDefinition) -> dict[str, Any]:
    saved = record.annotations.get(champ.id, {})
    url = file_url(platform.base_url, record.number)
    return champ_view(champ, saved.get("value"), saved.get("updated_at", record.depose_at), url)


def dossier_view(platform: Platform, record: DossierRecord) -> dict[str, Any]:
    number = record.number
    store = platform.store
    url = file_url(platform.base_url, number)

    def champs(id: str | None = None) -> list[dict[str, Any]]:
        return [
            champ_view(champ, record.champs.get(champ.id), record.champs_updated_at, url)
            for champ in platform.demarche.champs
            if id is None or champ.id == id
        ]

    def annotations(id: str | None = None) -> list[dict[str, Any]]:
        return [
            annotation_view(platform, record, champ)
            for champ in platform.demarche.annotations
            if id is None or champ.id == id
        ]

    def messages(id: str | None = None) -> list[dict[str, Any]]:
        found = [message_view(item) for item in store.messages(number)]
        return [view for view in found if id is None or view["id"] == id]

    def pending_correction_at() -> str | None:
        # Whenever a correction is pending, whatever the state (app/graphql/types/dossier_type.rb).
        pending = [item for item in store.messages(number) if item.pending_correction]
        return api_datetime(pending[-1].created_at) if pending else None

    return {
        "id": encode_id("Dossier", number),
        "number": number,
        "state": record.state,
        "archived": False,
        "prefilled": False,
        "connectionUsager": "password",
        "deposeParUnTiers": False,
        # A bad row (``/_standin/dossiers/{n}/bad-data``): a non-null field comes out null, and
        # the platform answers a top-level ``invalid_null`` (app/graphql/api/v2/schema.rb#L148-L160).
        "dateDepot": None if record.bad_data else api_datetime(record.depose_at),
        "datePassageEnConstruction": api_datetime(record.en_construction_at),
        "datePassageEnInstruction": api_datetime_or_none(record.en_instruction_at),
        "dateTraitement": api_datetime_or_none(record.processed_at),
        "dateDerniereModification": api_datetime(record.updated_at),
        "dateDerniereModificationChamps": api_datetime(record.champs_updated_at),
        "dateDerniereModificationAnnotations": api_datetime(record.annotations_updated_at),
        "dateDerniereCorrectionEnAttente": pending_correction_at,
        "dateSuppressionParUsager": api_datetime_or_none(record.hidden_by_user_at),
        "motivation": record.motivation,
        "usager": views.profile("User", number, record.usager_email),
        "demandeur": lambda: demandeur(platform, record),
        "demarche": lambda: views.demarche_descriptor(platform),
        "revision": lambda: views.revision(platform),
        "groupeInstructeur": lambda: views.groupe_instructeur(platform, record.groupe),
        "instructeurs": lambda: [views.instructeur(platform)] if record.en_instruction_at else [],
        "labels": [],
        "assignments": lambda mode=None: [],
        "avis": lambda id=None: [],
        "champs": champs,
        "annotations": annotations,
        "messages": messages,
        "traitements": lambda: [traitement_view(item) for item in store.traitements(number)],
    }


def demandeur(platform: Platform, record: DossierRecord) -> dict[str, Any]:
    by_field = platform.demarche.champ_by_field
    nom = by_field.get("referent_last_name")
    prenom = by_field.get("referent_first_name")
    return {
        "__typename": "PersonnePhysique",
        "id": encode_id("Individual", record.number),
        "civilite": None,
        "nom": str(record.champs.get(nom.id) or "") if nom else "",
        "prenom": str(record.champs.get(prenom.id) or "") if prenom else "",
        "email": record.usager_email,
    }


def deleted_dossier(record: DeletedRecord) -> dict[str, Any]:
    """``DeletedDossierType`` of a ``DeletedDossier`` row (app/graphql/types/deleted_dossier_type.rb)."""
    return {
        "id": encode_id("DeletedDossier", record.id),
        "number": record.number,
        "state": record.state,
        "reason": record.reason,
        "dateSupression": api_datetime(record.deleted_at),
    }


def hidden_dossier(record: DossierRecord) -> dict[str, Any]:
    """``DeletedDossierType`` of a hidden ``Dossier`` (``pendingDeletedDossiers``): its number,
    the applicant's deletion date and reason."""
    return {
        "id": encode_id("DeletedDossier", record.number),
        "number": record.number,
        "state": record.state,
        "reason": record.hidden_reason or "user_request",
        "dateSupression": api_datetime_or_none(record.hidden_by_user_at),
    }
