"""Root query fields: ``dossier``, ``demarche``, ``groupeInstructeur``, ``demarcheDescriptor``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLError

from standins.platform import connections, views
from standins.platform.context import Platform
from standins.platform.dossier_view import deleted_dossier, dossier_view
from standins.platform.records import DossierRecord


def not_found(type_name: str) -> GraphQLError:
    """``ActiveRecord::RecordNotFound`` as the platform's schema reports it."""
    return GraphQLError(f"{type_name} not found", extensions={"code": "not_found"})


def visible_dossier(platform: Platform, number: int | None) -> DossierRecord | None:
    record = None if number is None else platform.store.dossier(number)
    return None if record is None or record.deleted_at is not None else record


def query_root(platform: Platform) -> dict[str, Callable[..., Any]]:
    def dossier(number: int) -> dict[str, Any]:
        record = visible_dossier(platform, number)
        if record is None:
            raise not_found("Dossier")
        return dossier_view(platform, record)

    def demarche(number: int) -> dict[str, Any]:
        if number != platform.demarche.number:
            raise not_found("Demarche")
        return demarche_view(platform)

    def groupe_instructeur(number: int) -> dict[str, Any]:
        if number != 1:
            raise not_found("GroupeInstructeurWithDossiers")
        return {**views.groupe_instructeur(platform), **_dossier_lists(platform)}

    def demarche_descriptor(demarche: dict[str, Any]) -> dict[str, Any] | None:
        number = demarche.get("number")
        if number is not None and number != platform.demarche.number:
            return None
        return views.demarche_descriptor(platform)

    return {
        "dossier": dossier,
        "demarche": demarche,
        "groupeInstructeur": groupe_instructeur,
        "demarcheDescriptor": demarche_descriptor,
    }


def demarche_view(platform: Platform) -> dict[str, Any]:
    descriptor = views.demarche_descriptor(platform)
    revision = views.revision(platform)
    return {
        **descriptor,
        **_dossier_lists(platform),
        "activeRevision": revision,
        "publishedRevision": revision,
        "draftRevision": revision,
        "revisions": [revision],
        "champDescriptors": revision["champDescriptors"],
        "annotationDescriptors": revision["annotationDescriptors"],
        "groupeInstructeurs": lambda closed=None: [] if closed else [views.groupe_instructeur(platform)],
        "administrateurs": [],
        "labels": [],
    }


def _dossier_lists(platform: Platform) -> dict[str, Callable[..., dict[str, Any]]]:
    fetch = platform.store.page

    def view(record: DossierRecord) -> dict[str, Any]:
        return dossier_view(platform, record)

    return {
        "dossiers": lambda **args: connections.dossiers(fetch, view, args),
        "deletedDossiers": lambda **args: connections.deleted_dossiers(fetch, deleted_dossier, args),
        # Dossiers hidden by their usager, awaiting deletion: not modelled by the stand-in.
        "pendingDeletedDossiers": lambda **args: connections.empty(),
    }
