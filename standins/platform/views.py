"""Démarche-level objects as the dicts the GraphQL default resolver walks.

Keys are schema field names; a callable value is a field with arguments (or an expensive
one) and is called with the field's arguments. Only what a client may select is built.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from standins.platform.clock import PARIS, api_datetime, to_us
from standins.platform.context import Platform
from standins.platform.demarche import ChampDefinition
from standins.platform.ids import encode_id

PUBLISHED_AT = to_us(datetime(2026, 1, 5, 9, 0, tzinfo=PARIS))


def profile(profile_type: str, key: int | str, email: str) -> dict[str, Any]:
    return {"id": encode_id(profile_type, key), "email": email}


def instructeur(platform: Platform, instructeur_id: str | None = None) -> dict[str, Any]:
    instructeur_id = instructeur_id or platform.instructeur_id
    email = (platform.instructeur_email if instructeur_id == platform.instructeur_id
             else f"instructeur-{instructeur_id[:8].lower()}@demarche.localhost")
    return {"id": instructeur_id, "email": email}


def groupe_instructeur(platform: Platform, number: int = 1) -> dict[str, Any]:
    """A groupe and its members (the members change through ``/_standin/groupes``)."""
    groupe = next((g for g in platform.demarche.groupes if g.number == number), None)
    members = platform.store.groupe_members().get(number, [])
    return {
        "id": encode_id("GroupeInstructeur", number),
        "number": number,
        "label": groupe.label if groupe else "défaut",
        "closed": False,
        "instructeurs": [instructeur(platform, member) for member in members],
    }


def groupe_instructeurs(platform: Platform) -> list[dict[str, Any]]:
    return [groupe_instructeur(platform, g.number) for g in platform.demarche.groupes]


def descriptor(champ: ChampDefinition) -> dict[str, Any]:
    return {
        "__typename": champ.descriptor_typename,
        "id": champ.id,
        "label": champ.label,
        "description": None,
        "required": champ.required,
        "type": champ.type_de_champ,
        "champDescriptors": None,
        "condition": None,
        "conditionExpression": None,
        "options": list(champ.options) if champ.options is not None else None,
        "otherOption": False,
    }


def revision(platform: Platform) -> dict[str, Any]:
    return {
        "id": encode_id("ProcedureRevision", platform.demarche.number),
        "champDescriptors": [descriptor(champ) for champ in platform.demarche.champs],
        "annotationDescriptors": [descriptor(champ) for champ in platform.demarche.annotations],
        "dateCreation": api_datetime(PUBLISHED_AT),
        "datePublication": api_datetime(PUBLISHED_AT),
        "ineligibilite": None,
    }


def demarche_descriptor(platform: Platform) -> dict[str, Any]:
    demarche = platform.demarche
    return {
        "id": encode_id("Procedure", demarche.number),
        "number": demarche.number,
        "title": demarche.title,
        "description": demarche.title,
        "state": "publiee",
        "dateCreation": api_datetime(PUBLISHED_AT),
        "datePublication": api_datetime(PUBLISHED_AT),
        "dateDerniereModification": api_datetime(PUBLISHED_AT),
        "dureeConservationDossiers": 12,
        "dossiersCount": lambda: sum(1 for d in platform.store.dossiers() if d.visible),
        "forIndividual": True,
        "opendata": False,
        "revision": lambda: revision(platform),
        "tags": [],
        "zones": [],
    }
