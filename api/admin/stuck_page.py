"""``/admin/bloques``: the stuck dossiers and consultations for an admin, with their reasons
(the same finder as ``ptce admin stuck`` and ``GET /api/admin/stuck``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from api.admin.stuck import StuckCase, StuckKind, find_stuck
from api.auth.deps import PageAdmin
from api.auth.state import AuthState, auth_state
from api.deps import TemporalClient
from core.ids import CONSULTATION_WORKFLOW, SYNC_WORKFLOW

pages = APIRouter(prefix="/admin", include_in_schema=False)
State = Annotated[AuthState, Depends(auth_state)]
KIND_LABELS = {
    StuckKind.DEADLINE_PASSED: "Échéance d’étape dépassée",
    StuckKind.ACTIVITY_RETRYING: "Activité qui réessaie",
    StuckKind.ACTIVITY_PAUSED: "Activité en pause",
    StuckKind.WORKFLOW_TASK_FAILING: "Tâche de workflow en échec",
    StuckKind.DECISION_WAITING: "Décision en attente trop longue",
    StuckKind.BLOCKED: "Étape bloquée (à reprendre : ptce admin resume)",
    StuckKind.ENDED_ABNORMALLY: "Exécution terminée sans avoir fini (Failed, TimedOut, Terminated)",
    StuckKind.INTAKE_MISSING: "Synchronisation de la démarche arrêtée",
}


def _what(case: StuckCase) -> str:
    if case.workflow_type == CONSULTATION_WORKFLOW:
        return "Consultation d’une CRA"
    if case.workflow_type == SYNC_WORKFLOW:
        return "Synchronisation de la démarche"
    return "Dossier"


@pages.get("/bloques")
async def stuck_page(state: State, session: PageAdmin, client: TemporalClient) -> Response:
    cases = await find_stuck(client, datetime.now(UTC),
                             demarches=[state.settings.platform.demarche_number])
    rows = [(case, _what(case)) for case in cases]
    return state.pages.render("agents/admin_stuck.html", session=session, rows=rows,
                              kinds=KIND_LABELS)
