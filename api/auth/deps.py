"""Who is asking: the session, its role read again from the table, and CSRF checks.

Pages and JSON endpoints share the session cookie. JSON endpoints that change something also
need the session's CSRF token in the ``X-CSRF-Token`` header (``GET /api/session`` gives it);
forms carry it as a hidden field, and their Origin (or Referer) must be ours.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from api.auth.errors import CsrfRefused, NoRole, RoleRequired, SignInRequired
from api.auth.roles import Role, role_of
from api.auth.session import AgentSession, Source
from api.auth.state import auth_state
from api.cra.guard import FormGuard
from api.hardening import allowed_origins
from core.db.engine import Database
from core.db.repositories import RevokedSessionRepository

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_HEADER = "X-CSRF-Token"


async def signed_in(request: Request) -> AgentSession:
    state = auth_state(request)
    session = state.cookies.read_session(request)
    if session is None or (session.source is Source.DEV and not state.settings.dev_sign_in):
        raise SignInRequired("connexion requise")
    db: Database = request.app.state.db
    async with db.unit_of_work() as unit:
        if await RevokedSessionRepository(unit).revoked(session.sid):  # signed out
            raise SignInRequired("connexion requise")
    if session.source is Source.OIDC:  # a role removed by an admin takes effect at once
        role = await role_of(db, session.sub, session.email, state.settings.agents.bootstrap_admins)
        if role is None:
            raise NoRole("aucun rôle attribué à ce compte")
        session = session.model_copy(update={"role": role})
    return session


async def agent(session: Annotated[AgentSession, Depends(signed_in)]) -> AgentSession:
    if session.role not in (Role.AGENT, Role.ADMIN):
        raise RoleRequired("rôle agent requis")
    return session


async def admin(session: Annotated[AgentSession, Depends(signed_in)]) -> AgentSession:
    if session.role is not Role.ADMIN:
        raise RoleRequired("rôle administrateur requis")
    return session


def _header_csrf(request: Request, session: AgentSession) -> None:
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise CsrfRefused("jeton CSRF absent ou invalide")


async def api_agent(request: Request, session: Annotated[AgentSession, Depends(agent)]) -> AgentSession:
    _header_csrf(request, session)
    return session


async def api_admin(request: Request, session: Annotated[AgentSession, Depends(admin)]) -> AgentSession:
    _header_csrf(request, session)
    return session


def check_form(request: Request, session: AgentSession, submitted: object) -> None:
    """A posted form: our own origin, and the CSRF token of this session."""
    settings = auth_state(request).settings
    allowed = allowed_origins(settings)  # never the Host header: DNS rebinding
    if not FormGuard.same_origin(request.headers.get("origin"), request.headers.get("referer"),
                                 allowed):
        raise CsrfRefused("formulaire envoyé depuis un autre site")
    if not isinstance(submitted, str) or not hmac.compare_digest(submitted.encode(),
                                                                 session.csrf.encode()):
        raise CsrfRefused("jeton CSRF absent ou invalide")


SignedIn = Annotated[AgentSession, Depends(signed_in)]
PageAgent = Annotated[AgentSession, Depends(agent)]
PageAdmin = Annotated[AgentSession, Depends(admin)]
ApiAgent = Annotated[AgentSession, Depends(api_agent)]
ApiAdmin = Annotated[AgentSession, Depends(api_admin)]
