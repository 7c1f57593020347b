"""The stand-in's process: one FastAPI app, served by uvicorn.

Its routes are built once per process (``_routes``) and every platform (the process's own, each
test stack's) is a ``PlatformApp``: those routes, with its state in each request's scope. FastAPI
sets up a route in about a millisecond, twice when its router is included (the second time at the
app's first request): the tests, one platform per stack, spent 9 s of CPU on it."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from starlette.datastructures import State
from starlette.types import Receive, Scope, Send

from standins.platform import access, admin, admin_access, graphql_http, home, usager_page
from standins.platform.admin_access import seed_groupes
from standins.platform.context import DEFAULT_INSTRUCTEUR_EMAIL, Platform
from standins.platform.demarche import load_demarche
from standins.platform.ids import encode_id
from standins.platform.mail_forward import start_forwarding
from standins.platform.rate_limit import RateLimiter
from standins.platform.store import PlatformStore

logger = logging.getLogger(__name__)

DEFAULT_INSTRUCTEUR_ID = encode_id("Instructeur", 1)


@cache
def _routes() -> FastAPI:
    app = FastAPI(title="Stand-in démarche.numerique.gouv.fr (API GraphQL v2)")
    for module in (graphql_http, admin, admin_access, usager_page, home):
        app.include_router(module.router)
    return app


class PlatformApp:
    """One platform's ASGI app: ``state.platform`` and ``state.rate_limiter`` reach the routes
    as ``request.state`` (``deps.py``)."""

    def __init__(self, platform: Platform, rate_limiter: RateLimiter | None) -> None:
        self._values: dict[str, Any] = {"platform": platform, "rate_limiter": rate_limiter}
        self.state = State(self._values)
        self._routes = _routes()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            scope = {**scope, "state": {**scope.get("state", {}), **self._values}}
        await self._routes(scope, receive, send)


def create_app(
    db_path: Path,
    token: str,
    instructeur_id: str = DEFAULT_INSTRUCTEUR_ID,
    demarche_file: Path | None = None,
    *,
    instructeur_email: str = DEFAULT_INSTRUCTEUR_EMAIL,
    rate_limit_per_minute: int | None = None,
    forward_emails: tuple[str, int] | None = None,
) -> PlatformApp:
    """The platform stand-in, its state in the SQLite file ``db_path`` (kept across restarts).

    ``rate_limit_per_minute``: GraphQL POSTs allowed per ``Authorization`` header and minute
    before a 429 (the platform's default is 400); None, the default, means no limit.
    ``forward_emails``: an SMTP server that gets the platform's own emails to applicants.
    """
    platform = Platform(
        store=PlatformStore(db_path),
        demarche=load_demarche(demarche_file),
        instructeur_id=instructeur_id,
        instructeur_email=instructeur_email,
    )
    seed_groupes(platform)
    if forward_emails is not None:
        start_forwarding(platform.store, *forward_emails)
    access.seed_token(platform.store, token)
    limiter = None if rate_limit_per_minute is None else RateLimiter(rate_limit_per_minute)
    return PlatformApp(platform, limiter)


def serve(host: str, port: int, db_path: Path, token: str, instructeur_id: str,
          rate_limit_per_minute: int | None = None,
          forward_emails: tuple[str, int] | None = None) -> None:
    app = create_app(db_path, token, instructeur_id, rate_limit_per_minute=rate_limit_per_minute,
                     forward_emails=forward_emails)
    logger.info("platform stand-in on http://%s:%s/api/v2/graphql (db %s)", host, port, db_path)
    uvicorn.run(app, host=host, port=port, log_level="info")
