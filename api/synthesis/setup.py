"""Wiring of the synthesis: its routes and the DSFR charts' assets (when installed)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.cra.setup import ROOT
from api.synthesis import routes
from core.settings import Settings

DEFAULT_DSFR_CHART = ROOT / "node_modules" / "@gouvfr" / "dsfr-chart" / "dist" / "DSFRChart"


def install(app: FastAPI, settings: Settings) -> None:
    dist = settings.cra_pages.dsfr_chart_dist or DEFAULT_DSFR_CHART
    charts = (dist / "DSFRChart.js").is_file()  # without it: the tables beside each chart only
    if charts:
        app.mount("/static/dsfr-chart", StaticFiles(directory=dist), name="dsfr-chart")
    app.state.synthesis_charts = charts
    app.include_router(routes.router)
