"""The stand-in's process: one FastAPI app, served by uvicorn."""

from __future__ import annotations

import logging
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from standins.platform.admin import admin_router
from standins.platform.admin_access import access_router, seed_groupes
from standins.platform.context import DEFAULT_INSTRUCTEUR_EMAIL, Platform
from standins.platform.demarche import load_demarche
from standins.platform.graphql_http import graphql_router
from standins.platform.home import home_router
from standins.platform.ids import encode_id
from standins.platform.mail_forward import start_forwarding
from standins.platform.rate_limit import RateLimiter
from standins.platform.schema import load_schema
from standins.platform.store import PlatformStore
from standins.platform.usager_page import usager_router

logger = logging.getLogger(__name__)

DEFAULT_INSTRUCTEUR_ID = encode_id("Instructeur", 1)


def create_app(
    db_path: Path,
    token: str,
    instructeur_id: str = DEFAULT_INSTRUCTEUR_ID,
    demarche_file: Path | None = None,
    *,
    instructeur_email: str = DEFAULT_INSTRUCTEUR_EMAIL,
    rate_limit_per_minute: int | None = None,
    forward_emails: tuple[str, int] | None = None,
) -> FastAPI:
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
    app = FastAPI(title="Stand-in démarche.numerique.gouv.fr (API GraphQL v2)")
    limiter = None if rate_limit_per_minute is None else RateLimiter(rate_limit_per_minute)
    app.state.platform = platform
    app.state.rate_limiter = limiter
    app.include_router(graphql_router(platform, load_schema(), token, limiter))
    app.include_router(admin_router(platform))
    app.include_router(access_router(platform))
    app.include_router(usager_router(platform))
    app.include_router(home_router(platform))
    return app


def serve(host: str, port: int, db_path: Path, token: str, instructeur_id: str,
          rate_limit_per_minute: int | None = None,
          forward_emails: tuple[str, int] | None = None) -> None:
    app = create_app(db_path, token, instructeur_id, rate_limit_per_minute=rate_limit_per_minute,
                     forward_emails=forward_emails)
    logger.info("platform stand-in on http://%s:%s/api/v2/graphql (db %s)", host, port, db_path)
    uvicorn.run(app, host=host, port=port, log_level="info")
