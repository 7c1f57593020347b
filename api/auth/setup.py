"""Wiring of the sign-in, the admin pages and the pages' error rendering into the application."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response

from api.agents.pages import AgentPages
from api.auth import admin, routes
from api.auth.errors import CsrfRefused, NoRole, RoleRequired, SignInFailed, SignInRequired
from api.auth.oidc import OidcClient
from api.auth.session import Cookies
from api.auth.state import AuthState
from api.cra.setup import DEFAULT_DSFR
from api.errors import ApiError, NotFound, Refused
from core.settings import Settings

PAGE_PREFIXES = ("/agents", "/admin", "/connexion", "/deconnexion")
_TITLES: list[tuple[type[ApiError], str, str]] = [
    (NoRole, "Accès non autorisé",
     "Votre compte n’a aucun rôle sur ce service. Demandez à un administrateur du bureau BESSII "
     "de vous l’attribuer."),
    (SignInFailed, "Connexion impossible",
     "La connexion n’a pas abouti ou a expiré. Recommencez depuis la page de connexion."),
    (CsrfRefused, "Formulaire non vérifié",
     "Le formulaire n’a pas pu être vérifié (page trop ancienne ou envoyée depuis un autre site). "
     "Rechargez la page et recommencez."),
    (RoleRequired, "Accès non autorisé", "Votre rôle ne permet pas d’ouvrir cette page."),
    (NotFound, "Page introuvable", "Ce dossier ou cette page n’existe pas."),
    (Refused, "Action refusée", ""),
]


class _RedactCallback(logging.Filter):
    """The authorization code and state of the callback never reach the access log."""

    _pattern = re.compile(r"(/connexion/retour\?)\S*")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._pattern.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                                for a in record.args)
        return True


def _explain(exc: ApiError) -> tuple[str, str]:
    for kind, title, text in _TITLES:
        if isinstance(exc, kind):
            return title, text or exc.message
    return "Erreur", "La demande n’a pas pu être traitée."


def install(app: FastAPI, settings: Settings) -> None:
    dsfr_dist = settings.cra_pages.dsfr_dist or DEFAULT_DSFR
    pages = AgentPages((dsfr_dist / "dsfr.min.css").is_file(), settings.dev_sign_in,
                       settings.smtp.bessii_mailbox)
    app.state.auth = AuthState(settings, Cookies(settings), OidcClient(settings), pages)
    app.include_router(routes.router)
    app.include_router(admin.pages)
    app.include_router(admin.api)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _RedactCallback) for f in access.filters):
        access.addFilter(_RedactCallback())

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, exc: RequestValidationError) -> Response:
        """A form of the pages that is not one of ours (fields missing, unknown role): a French
        page, 400, nothing done. JSON endpoints keep FastAPI's 422 and its details."""
        if not request.url.path.startswith(PAGE_PREFIXES):
            return await request_validation_exception_handler(request, exc)
        return pages.render("agents/error.html", 400, session=None, title="Formulaire illisible",
                            text="Le formulaire reçu n’a pas la forme attendue. Revenez à la "
                                 "page précédente, rechargez-la et recommencez.")

    @app.exception_handler(ApiError)
    async def _handle(request: Request, exc: ApiError) -> Response:
        """JSON everywhere (``api.errors``), except on the agents' pages: French HTML."""
        path = request.url.path
        if not path.startswith(PAGE_PREFIXES):
            return JSONResponse(status_code=exc.status_code,
                                content={"error": exc.code, "message": exc.message})
        if isinstance(exc, SignInRequired):
            target = path if request.method == "GET" else "/agents"
            return RedirectResponse(f"/connexion?suivant={quote(target)}", status_code=303)
        title, text = _explain(exc)
        return pages.render("agents/error.html", exc.status_code, session=None, title=title,
                            text=text)
