"""Wiring of the answer pages into the application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.cra import routes
from api.cra.desk import CraState
from api.cra.errors import PageError
from api.cra.guard import FormGuard
from api.cra.pages import Pages
from api.cra.ratelimit import SlidingWindow
from api.cra.redaction import install_redaction
from core.links import LinkSigner
from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_DSFR = ROOT / "node_modules" / "@gouvfr" / "dsfr" / "dist"
STATIC = Path(__file__).resolve().parent.parent / "static"


def install(app: FastAPI, settings: Settings) -> None:
    conf = settings.cra_pages
    dsfr_dist = conf.dsfr_dist or DEFAULT_DSFR
    dsfr = (dsfr_dist / "dsfr.min.css").is_file()  # without it the pages render unstyled
    if dsfr:
        app.mount("/static/dsfr", StaticFiles(directory=dsfr_dist), name="dsfr")
    app.mount("/static/cra", StaticFiles(directory=STATIC), name="cra-static")
    pages = Pages(settings.smtp.bessii_mailbox, settings.links.read_grace_days, dsfr)
    app.state.cra = CraState(
        settings=settings, signer=LinkSigner.from_settings(settings.links),
        guard=FormGuard(conf.secret), pages=pages,
        per_token=SlidingWindow(conf.rate_limit_per_token, conf.rate_limit_window_seconds),
        per_client=SlidingWindow(conf.rate_limit_per_client, conf.rate_limit_window_seconds),
        inputs={})
    app.include_router(routes.router)
    install_redaction()

    @app.exception_handler(PageError)
    async def _page(_: Request, exc: PageError) -> HTMLResponse:
        return pages.render(exc.template, exc.status_code, exc.headers, error=exc, **exc.context)
