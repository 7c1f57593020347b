"""JSON endpoints of BESSII: the same reads and actions as the pages, under ``/api``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from api.agents import actions
from api.agents.dossiers import DossierDesk, DossierRow
from api.auth.deps import CSRF_HEADER, ApiAgent, SignedIn
from api.auth.roles import Role
from api.deps import TemporalClient
from api.routes.idempotency import IdempotencyKey
from core.domain.procedure import Stage
from workflows.payloads import DossierStatus

router = APIRouter(prefix="/api", tags=["agents"])


def desk(client: TemporalClient) -> DossierDesk:
    return DossierDesk(client)


Desk = Annotated[DossierDesk, Depends(desk)]


class SessionInfo(BaseModel):
    id: str
    name: str
    email: str | None
    role: Role
    csrf_token: str
    csrf_header: str = CSRF_HEADER


@router.get("/session", response_model=SessionInfo)
async def current_session(session: SignedIn) -> SessionInfo:
    """Who is signed in, and the CSRF token to send with every POST/PUT/DELETE."""
    return SessionInfo(id=session.sub, name=session.name, email=session.email, role=session.role,
                       csrf_token=session.csrf)


@router.get("/dossiers", response_model=list[DossierRow])
async def list_dossiers(_: ApiAgent, desk: Desk, stage: Stage | None = None) -> list[DossierRow]:
    """Dossiers from Temporal visibility (search attributes), optionally of one stage."""
    return await desk.rows(stage)


@router.get("/dossiers/{number}", response_model=DossierStatus)
async def get_dossier(number: int, _: ApiAgent, desk: Desk) -> DossierStatus:
    return await desk.status(number)


@router.post("/dossiers/{number}/admissibility", response_model=DossierStatus,
             responses={409: {"description": "Refusé par le workflow (étape)"}})
async def confirm_admissibility(number: int, body: actions.AdmissibilityBody, session: ApiAgent,
                                desk: Desk, key: IdempotencyKey = None) -> DossierStatus:
    return await desk.confirm_admissibility(number, actions.admissibility(session.agent, body),
                                            key)


@router.post("/dossiers/{number}/eligibility", response_model=DossierStatus,
             responses={409: {"description": "Refusé par le workflow (étape)"}})
async def record_eligibility(number: int, body: actions.EligibilityBody, session: ApiAgent,
                             desk: Desk, key: IdempotencyKey = None) -> DossierStatus:
    return await desk.record_eligibility(number, actions.eligibility(session.agent, body), key)


@router.post("/dossiers/{number}/decision", response_model=DossierStatus,
             responses={409: {"description": "Refusé par le workflow (étape, consultation ouverte)"}})
async def record_decision(number: int, body: actions.DecisionBody, session: ApiAgent,
                          desk: Desk, key: IdempotencyKey = None) -> DossierStatus:
    """A request repeated with the same ``Idempotency-Key`` is applied once (the dossier as it
    is is answered again)."""
    return await desk.record_decision(number, actions.decision(session.agent, body), key)
