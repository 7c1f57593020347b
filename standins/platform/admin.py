"""Stand-in-only endpoints under ``/_standin/`` (no token): seed and inspect the platform.

Used by the demo and by tests: file and edit dossiers as an applicant would, delete them,
read the full state and the mutation log, and inject faults into ``/api/v2/graphql``.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from standins.platform import usager
from standins.platform.champs import file_content
from standins.platform.context import Platform
from standins.platform.dump import dossier_state, dossier_summary, mutation_entry
from standins.platform.fields import FieldError
from standins.platform.records import Fault


class NewDossier(BaseModel):
    usager_email: str
    fields: dict[str, Any] = Field(default_factory=dict)


class DossierEdit(BaseModel):
    fields: dict[str, Any]


class FaultRequest(BaseModel):
    status: Literal[429, 500] | None = None
    count: int = Field(default=1, ge=0)
    retry_after: int = Field(default=1, ge=0)
    delay_ms: int = Field(default=0, ge=0)


def admin_router(platform: Platform) -> APIRouter:
    router = APIRouter(prefix="/_standin")
    store = platform.store

    @router.post("/dossiers", status_code=201)
    def file_dossier(body: NewDossier) -> dict[str, int]:
        with _as_http_errors():
            return {"number": usager.deposer(platform, body.usager_email, body.fields)}

    @router.get("/dossiers")
    def list_dossiers() -> list[dict[str, Any]]:
        return [dossier_summary(record) for record in store.dossiers()]

    @router.get("/dossiers/{number}")
    def get_dossier(number: int) -> dict[str, Any]:
        record = store.dossier(number)
        if record is None:
            raise HTTPException(404, "Dossier introuvable")
        return dossier_state(platform, record)

    @router.patch("/dossiers/{number}")
    def edit_dossier(number: int, body: DossierEdit) -> dict[str, Any]:
        with _as_http_errors():
            return dossier_state(platform, usager.modifier(platform, number, body.fields))

    @router.delete("/dossiers/{number}")
    def delete_dossier(number: int, reason: str = "user_request") -> dict[str, Any]:
        with _as_http_errors():
            usager.supprimer(platform, number, reason)
        return {"number": number, "deleted": True, "reason": reason}

    @router.get("/dossiers/{number}/files/{stable_id}/{filename}")
    def download(number: int, stable_id: str, filename: str) -> Response:
        record = store.dossier(number)
        champ = next((c for c in platform.demarche.champs if c.stable_id == stable_id), None)
        if record is None or champ is None or filename not in (record.champs.get(champ.id) or []):
            raise HTTPException(404, "Fichier introuvable")
        media_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        return Response(file_content(filename), media_type=media_type)

    @router.get("/mutations")
    def mutations(dossier: Annotated[int | None, Query()] = None) -> list[dict[str, Any]]:
        return [mutation_entry(entry) for entry in store.mutations(dossier)]

    @router.post("/faults")
    def set_faults(body: FaultRequest) -> dict[str, Any]:
        fault = Fault(body.status, body.count, body.retry_after, body.delay_ms)
        with store.write() as tx:
            tx.set_fault(fault)
        return _fault_state(store.fault())

    @router.get("/faults")
    def get_faults() -> dict[str, Any]:
        return _fault_state(store.fault())

    @router.delete("/faults")
    def clear_faults() -> dict[str, Any]:
        with store.write() as tx:
            tx.set_fault(Fault(None, 0, 0, 0))
        return _fault_state(store.fault())

    return router


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
