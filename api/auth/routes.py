"""Sign-in and sign-out: ``/connexion`` (choice), OIDC round trip, the dev sign-in (dev only)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.auth.deps import SignedIn, check_form
from api.auth.errors import NoRole, SignInFailed
from api.auth.roles import ROLE_LABELS, Role, role_of
from api.auth.session import AgentSession, Source, new_csrf, new_sid
from api.auth.state import AuthState, auth_state
from api.cra.guard import FormGuard
from api.hardening import allowed_origins
from core.db.engine import Database
from core.db.repositories import RevokedSessionRepository

log = logging.getLogger("ptce.api.auth")
router = APIRouter(include_in_schema=False)
State = Annotated[AuthState, Depends(auth_state)]


def safe_next(value: str | None) -> str:
    """Only a path of this site: never another host (open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/agents"


def _signed_in(state: AuthState, session: AgentSession, next_path: str) -> Response:
    response = RedirectResponse(safe_next(next_path), status_code=303)
    state.cookies.write_session(response, session)
    return response


@router.get("/connexion")
async def sign_in_page(state: State, suivant: str | None = None) -> Response:
    return state.pages.render("agents/sign_in.html", next=safe_next(suivant),
                              oidc=state.oidc.configured, roles=ROLE_LABELS)


@router.get("/connexion/oidc")
async def oidc_start(state: State, suivant: str | None = None) -> Response:
    if not state.oidc.configured:
        raise SignInFailed("aucun fournisseur d’identité configuré")
    url, transaction = await state.oidc.authorize_url(safe_next(suivant))
    response = RedirectResponse(url, status_code=302)
    state.cookies.write_sign_in(response, transaction)
    return response


@router.get("/connexion/retour")
async def oidc_callback(request: Request, state: State, code: str | None = None) -> Response:
    transaction = state.cookies.read_sign_in(request)
    returned = request.query_params.get("state")
    if transaction is None or not returned or returned != transaction.state:
        raise SignInFailed("state mismatch or sign-in expired")
    if not code:
        raise SignInFailed("no authorization code")
    identity = await state.oidc.identify(str(request.url), transaction)
    db: Database = request.app.state.db
    role = await role_of(db, identity.sub, identity.email, state.settings.agents.bootstrap_admins)
    if role is None:
        log.warning("sign-in refused: no role for this account")
        raise NoRole("aucun rôle attribué à ce compte")
    session = AgentSession(sid=new_sid(), sub=identity.sub, email=identity.email,
                           name=identity.name, role=role, source=Source.OIDC, csrf=new_csrf())
    log.info("agent signed in", extra={"role": role.value, "source": "oidc"})
    response = _signed_in(state, session, transaction.next)
    state.cookies.clear_sign_in(response)
    return response


@router.post("/connexion/dev")
async def dev_sign_in(request: Request, state: State, name: Annotated[str, Form()],
                      email: Annotated[str, Form()], role: Annotated[Role, Form()],
                      suivant: Annotated[str, Form()] = "/agents") -> Response:
    if not state.settings.dev_sign_in:
        raise SignInFailed("connexion de développement refusée hors environnement de développement")
    allowed = allowed_origins(state.settings)  # never the Host header: DNS rebinding
    if not FormGuard.same_origin(request.headers.get("origin"), request.headers.get("referer"),
                                 allowed):
        raise SignInFailed("formulaire envoyé depuis un autre site")
    name, email = name.strip()[:200], email.strip().lower()[:320]
    if not name or "@" not in email:
        raise SignInFailed("nom et adresse électronique requis")
    session = AgentSession(sid=new_sid(), sub=f"dev:{email}", email=email, name=name, role=role,
                           source=Source.DEV, csrf=new_csrf())
    log.info("agent signed in", extra={"role": role.value, "source": "dev"})
    return _signed_in(state, session, suivant)


@router.post("/deconnexion")
async def sign_out(request: Request, state: State, session: SignedIn,
                   csrf_token: Annotated[str, Form()] = "") -> Response:
    check_form(request, session, csrf_token)
    now = datetime.now(UTC)
    db: Database = request.app.state.db
    async with db.unit_of_work() as unit:  # the cookie, even if kept somewhere, is dead
        await RevokedSessionRepository(unit).revoke(
            session.sid, now, now + timedelta(seconds=state.cookies.max_age))
    log.info("agent signed out", extra={"source": session.source.value})
    response = RedirectResponse("/connexion", status_code=303)
    state.cookies.clear_session(response)
    return response
