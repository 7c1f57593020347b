"""Wiring of BESSII's pages and JSON endpoints (the sign-in comes first: ``api.auth.setup``)."""

from __future__ import annotations

from fastapi import FastAPI

from api.admin import routes as admin_routes
from api.agents import api_routes, page_routes
from api.auth import setup as auth_setup
from api.synthesis import setup as synthesis_setup
from core.settings import Settings


def install(app: FastAPI, settings: Settings) -> None:
    auth_setup.install(app, settings)
    app.include_router(page_routes.router)
    app.include_router(api_routes.router)
    app.include_router(admin_routes.router)
    synthesis_setup.install(app, settings)
