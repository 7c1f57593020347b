"""Routes of the synthesis (agents and admins): the page, its exports, a dossier's fiche.

The page is the only one of BESSII's pages that runs a script (the DSFR charts, served from
``/static/dsfr-chart``): its CSP adds ``script-src 'self'``, nothing more.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.auth.deps import PageAgent
from api.auth.state import AuthState, auth_state
from api.cra.pages import SECURITY_HEADERS
from api.errors import NotFound
from api.synthesis import charts, exports, fiche, rows
from api.synthesis.query import SORTS, SynthesisQuery
from core.db.engine import Database
from core.domain.procedure import STAGE_LABELS
from core.domain.regions import REGIONS
from core.rules.selection import APPRECIATION_LABELS, CRITERIA_GROUP_LABELS

router = APIRouter(prefix="/agents", include_in_schema=False)
State = Annotated[AuthState, Depends(auth_state)]
PER_PAGE = 100
CHART_HEADERS = {"Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"]
                 + "; script-src 'self'"}
ODS_TYPE = "application/vnd.oasis.opendocument.spreadsheet"


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _options() -> dict[str, Any]:
    return {"stage_options": [(s.value, label) for s, label in STAGE_LABELS.items()],
            "region_options": sorted(REGIONS.items(), key=lambda kv: kv[1]),
            "opinion_options": list(rows.OPINION_STATES.items()),
            "decision_options": list(rows.DECISION_STATES.items()),
            "sorts": {key: header for key, (header, _) in SORTS.items()},
            "group_labels": list(CRITERIA_GROUP_LABELS.items()),
            "appreciation_labels": {a.value: label for a, label in APPRECIATION_LABELS.items()},
            "decision_labels": rows.DECISION_STATES, "decimal": charts.decimal}


@router.get("/synthese")
async def synthesis_page(request: Request, state: State, session: PageAgent) -> Response:
    query = SynthesisQuery.parse(request.query_params)
    selected = query.select(await rows.load(_db(request)))
    pages = max(1, -(-len(selected) // PER_PAGE))
    page = min(query.page, pages)
    shown = selected[(page - 1) * PER_PAGE:page * PER_PAGE]
    return state.pages.render(
        "agents/synthese.html", session=session, headers=CHART_HEADERS, query=query,
        rows=shown, total=len(selected), page=page, pages=pages, figures=charts.figures(selected),
        pending=charts.pending_since(selected, datetime.now(UTC)),
        charts_installed=request.app.state.synthesis_charts, **_options())


def _attachment(body: bytes, media_type: str, extension: str) -> Response:
    name = f"synthese-ami-ptce-{datetime.now(UTC):%Y-%m-%d}.{extension}"
    return Response(body, media_type=media_type, headers={
        **SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/synthese/export.csv")
async def export_csv(request: Request, session: PageAgent) -> Response:
    query = SynthesisQuery.parse(request.query_params)
    selected = query.select(await rows.load(_db(request), texts=True))
    return _attachment(exports.to_csv(selected), "text/csv; charset=utf-8", "csv")


@router.get("/synthese/export.ods")
async def export_ods(request: Request, session: PageAgent) -> Response:
    query = SynthesisQuery.parse(request.query_params)
    selected = query.select(await rows.load(_db(request), texts=True))
    body = await asyncio.to_thread(exports.to_ods, selected)
    return _attachment(body, ODS_TYPE, "ods")


async def _fiche(request: Request, number: int) -> fiche.Fiche:
    found = await fiche.load(_db(request), number)
    if found is None:
        raise NotFound(f"Le dossier n° {number} n’a pas encore de synthèse.")
    return found


@router.get("/dossiers/{number}/fiche")
async def fiche_page(request: Request, number: int, state: State, session: PageAgent) -> Response:
    """Print-ready (A4, from the browser's print command)."""
    return state.pages.render("agents/fiche.html", session=session, f=await _fiche(request, number),
                              pdf=False, **fiche.labels())


@router.get("/dossiers/{number}/fiche.pdf")
async def fiche_pdf(request: Request, number: int, state: State, session: PageAgent) -> Response:
    found = await _fiche(request, number)
    html = state.pages.template("agents/fiche.html").render(session=session, f=found, pdf=True,
                                                             **fiche.labels())
    try:
        body = await asyncio.to_thread(fiche.render_pdf, html)
    except fiche.PdfUnavailable:
        return state.pages.render(
            "agents/error.html", 503, session=session, title="Fiche PDF indisponible",
            text="La production des PDF n’est pas installée sur ce serveur. Utilisez la version "
                 f"imprimable de la fiche (/agents/dossiers/{number}/fiche) et la commande « "
                 "Imprimer » du navigateur.")
    return Response(body, media_type="application/pdf", headers={
        **SECURITY_HEADERS,
        "Content-Disposition": f'attachment; filename="fiche-synthese-{number}.pdf"'})
