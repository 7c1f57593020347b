"""Stand-in-only endpoints under ``/_standin/`` (no token): seed and inspect the platform.

Used by the demo and by tests: file and edit dossiers as an applicant would, delete and
restore them, run the purge, fill annotations as an instructeur would in the platform's pages,
corrupt a row, read the full state, the mutation log and the platform's own emails, and inject
faults into ``/api/v2/graphql``. Tokens and groupes: ``admin_access.py``.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from standins.platform import private_annotations, usager
from standins.platform.champs import file_content
from standins.platform.deps import PlatformDep
from standins.platform.dump import dossier_state, dossier_summary, mutation_entry
from standins.platform.fields import FieldError
from standins.platform.records import Fault


class NewDossier(BaseModel):
    usager_email: str
    fields: dict[str, Any] = Field(default_factory=dict)


class BulkDossiers(NewDossier):
    """Test-only, for the benchmark's scale mode: ``count`` filings in one request, each filed
    exactly as ``POST /_standin/dossiers`` files one (``usager.deposer``), ``regions`` given in
    turn. Not part of the platform's contract: démarches-simplifiées has no bulk filing, each
    applicant files their own dossier (``app/controllers/users/dossiers_controller.rb``)."""

    count: int = Field(ge=1, le=20_000)
    regions: list[str] = Field(default_factory=list)


class DossierEdit(BaseModel):
    fields: dict[str, Any]


class Purge(BaseModel):
    older_than_seconds: float = Field(default=14 * 24 * 3600, ge=0)  # the platform: 2 weeks


class Flags(BaseModel):
    bad_data: bool | None = None  # getDossier answers a top-level invalid_null
    siret_degraded: bool | None = None  # API Entreprise data not fetched yet


class AnnotationEdit(BaseModel):
    """As ``dossierModifierAnnotations``' items: ``{"id": …, "value": {"text": …}}``."""

    annotations: list[dict[str, Any]]


class FaultRequest(BaseModel):
    status: Literal[429, 500] | None = None
    count: int = Field(default=1, ge=0)
    retry_after: int = Field(default=1, ge=0)
    delay_ms: int = Field(default=0, ge=0)


router = APIRouter(prefix="/_standin")


@router.post("/dossiers", status_code=201)
def file_dossier(platform: PlatformDep, body: NewDossier) -> dict[str, int]:
    with _as_http_errors():
        return {"number": usager.deposer(platform, body.usager_email, body.fields)}


@router.post("/dossiers/bulk", status_code=201)
def file_dossiers(platform: PlatformDep, body: BulkDossiers) -> dict[str, list[int]]:
    regions: list[str | None] = [*body.regions] or [None]
    with _as_http_errors():
        return {"numbers": [
            usager.deposer(platform, body.usager_email, {
                **body.fields, **({"region": region} if region else {})})
            for region in (regions[i % len(regions)] for i in range(body.count))]}


@router.get("/dossiers")
def list_dossiers(platform: PlatformDep) -> list[dict[str, Any]]:
    store = platform.store
    return [dossier_summary(record) for record in store.dossiers()]


@router.get("/dossiers/{number}")
def get_dossier(platform: PlatformDep, number: int) -> dict[str, Any]:
    store = platform.store
    record = store.dossier(number)
    if record is None:
        raise HTTPException(404, "Dossier introuvable")
    return dossier_state(platform, record)


@router.patch("/dossiers/{number}")
def edit_dossier(platform: PlatformDep, number: int, body: DossierEdit) -> dict[str, Any]:
    with _as_http_errors():
        return dossier_state(platform, usager.modifier(platform, number, body.fields))


@router.delete("/dossiers/{number}")
def delete_dossier(platform: PlatformDep, number: int, reason: str = "user_request") -> dict[str, Any]:
    """The applicant's deletion hides the dossier; any other reason purges it at once."""
    with _as_http_errors():
        outcome = usager.supprimer(platform, number, reason)
    return {"number": number, "deleted": True, "reason": reason, "outcome": outcome}


@router.post("/dossiers/{number}/restore")
def restore_dossier(platform: PlatformDep, number: int) -> dict[str, Any]:
    with _as_http_errors():
        return dossier_state(platform, usager.restaurer(platform, number))


@router.post("/purge")
def purge(platform: PlatformDep, body: Purge) -> dict[str, list[int]]:
    return {"purged": usager.purger(platform, timedelta(seconds=body.older_than_seconds))}


@router.post("/dossiers/{number}/flags")
def set_flags(platform: PlatformDep, number: int, body: Flags) -> dict[str, Any]:
    store = platform.store
    if store.dossier(number) is None:
        raise HTTPException(404, "Dossier introuvable")
    with store.write() as tx:
        tx.set_flags(number, **body.model_dump(exclude_none=True))
    record = store.dossier(number)
    assert record is not None
    return {"bad_data": record.bad_data, "siret_degraded": record.siret_degraded}


@router.patch("/dossiers/{number}/annotations")
def edit_annotations(platform: PlatformDep, number: int, body: AnnotationEdit) -> dict[str, Any]:
    """An instructeur fills annotations in the platform's pages (no API, no access check)."""
    store = platform.store
    with store.write() as tx:
        record = tx.dossier(number)
        if record is None or not record.visible:
            raise HTTPException(404, "Dossier introuvable")
        errors, accepted = private_annotations.check(platform, body.annotations)
        if errors:
            raise HTTPException(422, "; ".join(errors))
        private_annotations.save(platform, tx, record, accepted, [])
    updated = store.dossier(number)
    assert updated is not None
    return dossier_state(platform, updated)


@router.get("/emails")
def emails(platform: PlatformDep, dossier: Annotated[int | None, Query()] = None,
           to: Annotated[str | None, Query()] = None) -> list[dict[str, Any]]:
    """The platform's own emails to applicants, oldest first."""
    store = platform.store
    return [{"id": n.id, "dossier": n.dossier_number, "to": n.to_email, "kind": n.kind,
             "subject": n.subject, "body": n.body}
            for n in store.notifications(dossier) if to is None or n.to_email == to]


@router.get("/dossiers/{number}/files/{stable_id}/{filename}")
def download(platform: PlatformDep, number: int, stable_id: str, filename: str) -> Response:
    store = platform.store
    record = store.dossier(number)
    champ = next((c for c in platform.demarche.champs if c.stable_id == stable_id), None)
    if record is None or champ is None or filename not in (record.champs.get(champ.id) or []):
        raise HTTPException(404, "Fichier introuvable")
    media_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return Response(file_content(filename), media_type=media_type)


@router.get("/mutations")
def mutations(platform: PlatformDep, dossier: Annotated[int | None, Query()] = None) -> list[dict[str, Any]]:
    store = platform.store
    return [mutation_entry(entry) for entry in store.mutations(dossier)]


@router.post("/faults")
def set_faults(platform: PlatformDep, body: FaultRequest) -> dict[str, Any]:
    store = platform.store
    fault = Fault(body.status, body.count, body.retry_after, body.delay_ms)
    with store.write() as tx:
        tx.set_fault(fault)
    return _fault_state(store.fault())


@router.get("/faults")
def get_faults(platform: PlatformDep) -> dict[str, Any]:
    store = platform.store
    return _fault_state(store.fault())


@router.delete("/faults")
def clear_faults(platform: PlatformDep) -> dict[str, Any]:
    store = platform.store
    with store.write() as tx:
        tx.set_fault(Fault(None, 0, 0, 0))
    return _fault_state(store.fault())


def _fault_state(fault: Fault) -> dict[str, Any]:
    return {
        "status": fault.status,
        "count": fault.remaining,
        "retry_after": fault.retry_after,
        "delay_ms": fault.delay_ms,
    }


@contextmanager
def _as_http_errors() -> Iterator[None]:
    """Map the applicant-side errors to HTTP statuses, keeping their French messages."""
    try:
        yield
    except usager.DossierNotFound as error:
        raise HTTPException(404, str(error)) from error
    except usager.DossierNotEditable as error:
        raise HTTPException(409, str(error)) from error
    except (FieldError, ValueError) as error:
        raise HTTPException(422, str(error)) from error
