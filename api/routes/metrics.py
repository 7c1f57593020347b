"""``GET /metrics`` for Prometheus: dossiers by stage (read in Temporal's visibility at scrape
time, so the count is exact whatever the number of workers), the figures of BESSII's synthesis
(``ptce_synthesis_…``, from the service's tables) and the API process's metrics.

Outside the OpenAPI schema: counts only, no identifier, no personal data. Open in dev and
test; in production it needs ``Authorization: Bearer <PTCE_API__METRICS_TOKEN>`` (Prometheus's
``authorization`` setting) and is not served at all without that setting. The workflow-side
business metrics are on the worker's endpoint (:9464).
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from prometheus_client import REGISTRY, CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy.exc import SQLAlchemyError
from temporalio.service import RPCError

from api.auth.errors import SignInRequired
from api.deps import AppSettings, TemporalClient
from api.errors import NotFound
from api.synthesis import metrics as synthesis
from core.db.engine import Database
from core.domain.procedure import Stage

router = APIRouter()
log = logging.getLogger("ptce.api.metrics")


async def _by_stage(client: TemporalClient, registry: CollectorRegistry) -> None:
    dossiers = Gauge("ptce_dossiers", "Dossiers par étape (dernière étape connue)", ["stage"],
                     registry=registry)
    up = Gauge("ptce_visibility_up", "La visibilité Temporal a répondu", registry=registry)
    try:
        for stage in Stage:
            found = await client.count_workflows(
                f"WorkflowType = 'DossierWorkflow' AND DossierStage = '{stage.value}'")
            dossiers.labels(stage.value).set(found.count)
        up.set(1)
    except RPCError as exc:
        log.warning("visibility not reachable for metrics: %s", exc.status)
        up.set(0)


def _allowed(settings: AppSettings, authorization: str | None) -> None:
    if settings.lenient:
        return
    token = settings.api.metrics_token
    if token is None:
        raise NotFound("Ressource introuvable.")
    expected = f"Bearer {token.get_secret_value()}".encode()
    if not hmac.compare_digest((authorization or "").encode(), expected):
        raise SignInRequired("jeton de collecte requis")


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, client: TemporalClient, settings: AppSettings,
                  authorization: Annotated[str | None, Header()] = None) -> Response:
    _allowed(settings, authorization)
    registry = CollectorRegistry()
    await _by_stage(client, registry)
    db: Database | None = getattr(request.app.state, "db", None)
    if db is not None:  # BESSII's synthesis figures, from the service's tables
        up = Gauge("ptce_synthesis_up", "Les tables de la synthèse ont répondu", registry=registry)
        try:
            await synthesis.collect(db, registry)
            up.set(1)
        except SQLAlchemyError as exc:
            log.warning("synthesis tables not readable for metrics: %s", type(exc).__name__)
            up.set(0)
    body = generate_latest(registry) + generate_latest(REGISTRY)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
