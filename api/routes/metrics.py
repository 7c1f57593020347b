"""``GET /metrics`` for Prometheus: dossiers by stage (read in Temporal's visibility at scrape
time, so the count is exact whatever the number of workers), the figures of BESSII's synthesis
(``ptce_synthesis_…``, from the service's tables) and the API process's metrics.

Outside the OpenAPI schema and open like ``/healthz``: counts only, no identifier, no personal
data. In production the reverse proxy does not publish it (Prometheus scrapes ``api:8000``
inside the stack). The workflow-side business metrics are on the worker's endpoint (:9464).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import REGISTRY, CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy.exc import SQLAlchemyError
from temporalio.service import RPCError

from api.deps import TemporalClient
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


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, client: TemporalClient) -> Response:
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
