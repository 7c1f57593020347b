"""Root query fields: ``dossier``, ``demarche``, ``groupeInstructeur``, ``demarcheDescriptor``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLError

from standins.platform import connections, views
from standins.platform.context import Platform
from standins.platform.dossier_view import deleted_dossier, dossier_view, hidden_dossier
from standins.platform.records import DossierRecord


def not_found(type_name: str) -> GraphQLError:
    """``ActiveRecord::RecordNotFound`` as the platform's schema reports it."""
    return GraphQLError(f"{type_name} not found", extensions={"code": "not_found"})


def visible_dossier(platform: Platform, number: int | None) -> DossierRecord | None:
    """``Dossier.visible_by_administration.for_api_v2.find(number)``
    (app/graphql/types/query_type.rb#L38-L45): a dossier the applicant deleted while en
    construction is at once "not found", like a purged one."""
    record = None if number is None else platform.store.dossier(number)
    return record if record is not None and record.visible else None


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
        if number not in {g.number for g in platform.demarche.groupes}:
            raise not_found("GroupeInstructeurWithDossiers")
        return {**views.groupe_instructeur(platform, number), **_dossier_lists(platform)}

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
        "groupeInstructeurs": lambda closed=None: [] if closed else views.groupe_instructeurs(platform),
        "administrateurs": [],
        "labels": [],
    }


def _dossier_lists(platform: Platform) -> dict[str, Callable[..., dict[str, Any]]]:
    fetch = platform.store.page

    def view(record: DossierRecord) -> dict[str, Any]:
        return dossier_view(platform, record)

    return {
        "dossiers": lambda **args: connections.dossiers(fetch, view, args),
        # DeletedDossier rows, created at the purge (app/graphql/types/demarche_type.rb#L135-L143).
        "deletedDossiers": lambda **args: connections.deleted_dossiers(
            platform.store.deleted_page, deleted_dossier, args),
        # Dossiers the applicant deleted, restorable until purged (#L145-L153).
        "pendingDeletedDossiers": lambda **args: connections.pending_deleted_dossiers(
            fetch, hidden_dossier, args),
    }
