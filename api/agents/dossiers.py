"""The dossiers as BESSII sees them in Temporal: the list from visibility, one dossier from its
``status`` query, and each action as a workflow Update.

A validator's refusal comes back as ``WorkflowUpdateFailedError`` whose cause carries the
``ApplicationError`` type: we map the type (never the message) to a French explanation.
"""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import BaseModel, Field
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import NotFound, Refused, Unavailable
from api.routes.idempotency import update_id
from core.domain.procedure import STAGE_LABELS, ConsultationStatus, Stage
from core.domain.regions import region_name
from core.ids import DOSSIER_WORKFLOW, dossier_workflow_id
from workflows import search_attributes as sa
from workflows.dossier import DossierWorkflow
from workflows.payloads import (
    AdmissibilityDecision,
    DecisionRequest,
    DossierResult,
    DossierStatus,
    EligibilityRecord,
    UpdateAck,
)

log = logging.getLogger("ptce.api.agents")
LIST_LIMIT = 1000


class DossierRow(BaseModel):
    """One line of the dossier list: search attributes only (no personal data)."""

    number: int
    stage: Stage | None = None
    stage_deadline: datetime | None = None
    regions: list[str] = Field(default_factory=list)
    fragile_territory: bool | None = None
    cra_pending: list[str] = Field(default_factory=list)
    decision: str | None = None
    running: bool
    started_at: datetime | None = None


def _row(execution: WorkflowExecution) -> DossierRow | None:
    attrs = execution.typed_search_attributes
    number = attrs.get(sa.DOSSIER_NUMBER)
    if number is None:
        return None
    stage = attrs.get(sa.STAGE)
    return DossierRow(
        number=number,
        stage=Stage(stage) if stage is not None and stage in Stage.__members__.values() else None,
        stage_deadline=attrs.get(sa.STAGE_DEADLINE), regions=list(attrs.get(sa.REGIONS) or []),
        fragile_territory=attrs.get(sa.FRAGILE_TERRITORY),
        cra_pending=list(attrs.get(sa.CRA_PENDING) or []), decision=attrs.get(sa.DECISION),
        running=execution.status is WorkflowExecutionStatus.RUNNING,
        started_at=execution.start_time)


def refusal(cause: BaseException | None, status: DossierStatus | None) -> str:
    """French explanation of a validator's refusal, from the error type."""
    kind = cause.type if isinstance(cause, ApplicationError) else None
    if kind == "ConsultationOpen":
        pending = [region_name(c.region) for c in (status.consultations if status else [])
                   if c.status is ConsultationStatus.PENDING]
        who = f" ({', '.join(pending)})" if pending else ""
        return (f"La décision n’a pas été enregistrée : la consultation de la CRA{who} est encore "
                "ouverte. Attendez son avis, ou indiquez le motif d’une décision anticipée.")
    if kind == "WrongStage":
        where = f" (étape actuelle : « {STAGE_LABELS[status.stage]} »)" if status else ""
        return ("Cette action n’est pas possible à cette étape du dossier" + where +
                " : elle a peut-être déjà été enregistrée. Rien n’a été modifié.")
    return "Le service des dossiers a refusé cette action. Rien n’a été modifié."


class DossierDesk:
    def __init__(self, client: Client) -> None:
        self._client = client

    def _handle(self, number: int) -> WorkflowHandle[DossierWorkflow, DossierResult]:
        return self._client.get_workflow_handle_for(DossierWorkflow.run, dossier_workflow_id(number))

    async def rows(self, stage: Stage | None = None) -> list[DossierRow]:
        query = f"WorkflowType='{DOSSIER_WORKFLOW}'"
        if stage is not None:
            query += f" AND {sa.STAGE.name}='{stage.value}'"
        rows: list[DossierRow] = []
        try:
            async for execution in self._client.list_workflows(query, limit=LIST_LIMIT):
                row = _row(execution)
                if row is not None:
                    rows.append(row)
        except RPCError as exc:
            raise Unavailable("Temporal est momentanément indisponible") from exc
        return rows

    async def status(self, number: int) -> DossierStatus:
        try:
            return await self._handle(number).query(DossierWorkflow.status)
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                raise NotFound(f"Le dossier n° {number} est introuvable.") from exc
            raise Unavailable("Temporal est momentanément indisponible") from exc
        except WorkflowQueryFailedError as exc:
            raise Unavailable("l’état du dossier est momentanément indisponible") from exc

    async def _update(self, number: int, name: str,
                      payload: AdmissibilityDecision | EligibilityRecord | DecisionRequest,
                      key: str | None) -> DossierStatus:
        """Sends the Update under the request's id (a retry is applied once), then reads the
        dossier (the Update itself answers a small acknowledgement)."""
        try:
            # By name: the typed overloads do not accept an async update method.
            ack: UpdateAck = await self._handle(number).execute_update(
                name, payload, id=update_id(name, key), result_type=UpdateAck)
        except WorkflowUpdateFailedError as exc:
            kind = exc.cause.type if isinstance(exc.cause, ApplicationError) else "unknown"
            log.info("update refused", extra={"dossier": number, "update": name, "type": kind})
            current = await self._quiet_status(number)
            raise Refused(refusal(exc.cause, current)) from exc
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:  # ended meanwhile, or never existed
                raise Refused("Le dossier est clos ou introuvable : rien n’a été enregistré.") from exc
            raise Unavailable("Temporal est momentanément indisponible") from exc
        except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
            raise Unavailable("l’action n’a pas pu être confirmée à temps") from exc
        log.info("update accepted", extra={"dossier": number, "update": name,
                                           "applied": ack.applied})
        return await self.status(number)

    async def _quiet_status(self, number: int) -> DossierStatus | None:
        try:
            return await self.status(number)
        except (NotFound, Unavailable):
            return None

    async def confirm_admissibility(self, number: int, decision: AdmissibilityDecision,
                                    key: str | None = None) -> DossierStatus:
        return await self._update(number, "confirm_admissibility", decision, key)

    async def record_eligibility(self, number: int, record: EligibilityRecord,
                                 key: str | None = None) -> DossierStatus:
        return await self._update(number, "record_eligibility", record, key)

    async def record_decision(self, number: int, decision: DecisionRequest,
                              key: str | None = None) -> DossierStatus:
        return await self._update(number, "record_decision", decision, key)
