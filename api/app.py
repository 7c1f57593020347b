"""The HTTP API: platform webhook, committee answer pages, ministry and admin endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.routes import home, webhook
from api.temporal import connect
from core.settings import get_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    app.state.temporal = await connect(settings.temporal)
    yield


def create_app() -> FastAPI:
    app = FastAPI(title="AMI PTCE – service des dossiers", version="0.1.0", lifespan=lifespan)
    errors.install(app)
    app.include_router(home.router)
    app.include_router(webhook.router)
    return app
