"""The HTTP API: platform webhook, committee answer pages, ministry and admin endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from urllib.parse import urlsplit

from fastapi import FastAPI
from temporalio.client import Client

from api import cra, errors
from api.agents import setup as agents
from api.hardening import install_walls, instrument_app
from api.routes import codec, docs, home, metrics, webhook
from api.routes.cors import PrefixCors
from api.temporal import connect_waiting
from core.db.engine import Database, create_engine
from core.db.migrate import upgrade
from core.settings import Settings, get_settings
from core.telemetry.traces import instrument_engine


def _lifespan(settings: Settings, temporal: Client | None, db: Database | None
              ) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Builds the Temporal client and the database unless the caller (a test) brought them."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if temporal is None:
            app.state.temporal = await connect_waiting(settings.temporal, settings.codec)
        own = None
        if db is None:
            own = Database(create_engine(settings.effective_database_url))
            instrument_engine(own.engine)
            await upgrade(own.engine)  # migrations to head (idempotent, under a lock)
            app.state.db = own
        try:
            yield
        finally:
            if own is not None:
                await own.dispose()

    return lifespan


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def create_app(settings: Settings | None = None, temporal: Client | None = None,
               db: Database | None = None) -> FastAPI:
    config = settings or get_settings()
    # The API's documentation is open in dev and test; in production, for signed-in agents.
    open_docs = config.lenient
    app = FastAPI(title="AMI PTCE – service des dossiers", version="0.1.0",
                  lifespan=_lifespan(config, temporal, db), docs_url="/docs" if open_docs else None,
                  redoc_url=None, openapi_url="/openapi.json" if open_docs else None)
    if not open_docs:
        app.include_router(docs.router)
    if settings is not None:
        app.dependency_overrides[get_settings] = lambda: config
    if temporal is not None:
        app.state.temporal = temporal
    if db is not None:
        app.state.db = db
    errors.install(app)
    instrument_app(app)
    app.include_router(home.router)
    app.include_router(webhook.router)
    app.include_router(codec.router)
    app.include_router(metrics.router)
    app.add_middleware(PrefixCors, prefix=codec.PREFIX, origins=[_origin(config.temporal.ui_url)])
    cra.install(app, config)
    agents.install(app, config)  # after errors.install: renders ApiError as pages on its paths
    install_walls(app, config, codec.PREFIX)  # last: outermost
    return app
