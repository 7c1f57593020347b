"""Admin amendments: each one a workflow Update (a validator refuses what does not apply),
carrying the admin and the reason, audited in the database whatever its outcome."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.admin.audit import audited
from api.errors import Refused, Unavailable
from api.routes.idempotency import update_id
from core.db.engine import Database
from core.db.repositories import CraMemberRepository
from core.domain.admin import (
    Block,
    BlockResolution,
    ConsultationSkip,
    DeadlineChange,
    LinkResend,
    MemberReplacement,
    ReferentCorrection,
    RegionCorrection,
    SendBack,
    Withdrawal,
)
from core.domain.cra import CraContact
from core.ids import consultation_workflow_id, dossier_workflow_id
from workflows.dossier import DossierWorkflow
from workflows.payloads import DossierStatus, UpdateAck

log = logging.getLogger("ptce.api.admin")
# Validator refusals by ApplicationError type (never by message), explained in French.
EXPLAINED = {
    "WrongStage": "le dossier n’est pas à une étape où cette action s’applique",
    "Busy": "une autre correction ouvre ou clôt des consultations : réessayez dans un instant",
    "NoChange": "rien à corriger (mêmes valeurs)",
    "NotBackwards": "ce n’est pas une étape antérieure du dossier",
    "NotConsulted": "cette région n’est pas consultée sur ce dossier",
    "ConsultationOpen": "la consultation attend encore l’avis de la CRA (prolongez l’échéance "
                        "ou renvoyez le lien)",
    "AlreadyAnswered": "la CRA a déjà rendu son avis",
    "ConsultationClosed": "la consultation est close",
    "DeadlinePassed": "l’échéance de la consultation est passée",
    "InvalidDeadline": "la nouvelle échéance est déjà passée",
    "NotSupported": "consultation ouverte avant cette fonction",
    "UnknownMember": "ce membre ne fait pas partie de la consultation",
    "AlreadyMember": "déjà membre de la consultation",
    "WrongRegion": "membre d’une autre région",
    "NotBlocked": "rien n’est bloqué sur ce dossier (ou plus à cette étape)",
    "WhichBlock": "plusieurs étapes sont bloquées : précisez laquelle (--block)",
    "NotSkippable": "cette étape ne peut pas être passée (réessayez ou clôturez)",
    "NotClosable": "cette étape (une correction d’administrateur) ne peut pas clore le dossier",
}


class AdminDesk:
    """``key``: the request's idempotency key (``Idempotency-Key``, one per ``ptce admin``
    invocation): each Update is sent as ``<update>:<key>``, applied once however often sent."""

    def __init__(self, client: Client, db: Database, key: str | None = None) -> None:
        self._client = client
        self._db = db
        self._request_key = key

    async def _update(self, workflow_id: str, name: str, payload: BaseModel,
                      result_type: type[Any],
                      accepted: Callable[[], Awaitable[None]] | None = None) -> Any:
        """The Update's result. ``accepted`` runs once the workflow's validator accepted it and
        before its handler's result: what must follow the workflow's yes, never precede it."""
        handle = self._client.get_workflow_handle(workflow_id)
        request = update_id(name, self._request_key)
        try:
            if accepted is None:
                return await handle.execute_update(name, payload, id=request,
                                                   result_type=result_type)
            update = await handle.start_update(name, payload, id=request, result_type=result_type,
                                               wait_for_stage=WorkflowUpdateStage.ACCEPTED)
            # A rejection comes back as an outcome already known at this stage (temporalio
            # 1.35 keeps it on the handle): raise it before writing anything.
            known = getattr(update, "_known_outcome", None)
            if known is not None and known.HasField("failure"):
                return await update.result()
            await accepted()
            return await update.result()
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            kind = (cause.type if isinstance(cause, ApplicationError) else None) or "unknown"
            log.info("admin update refused", extra={"workflow": workflow_id, "update": name,
                                                    "type": kind})
            why = EXPLAINED.get(kind, "refus du workflow")
            raise Refused(f"Refusé ({kind}) : {why} ; rien n’a été modifié.") from exc
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                raise Refused(f"{workflow_id} est clos ou introuvable : rien n’a été modifié."
                              ) from exc
            raise Unavailable("Temporal est momentanément indisponible") from exc
        except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
            raise Unavailable("l’action n’a pas pu être confirmée à temps") from exc

    async def _dossier_update(self, number: int, name: str, payload: BaseModel) -> Any:
        """An Update of the dossier (a small acknowledgement), then the dossier as it is now."""
        target = dossier_workflow_id(number)
        await self._update(target, name, payload, UpdateAck)
        handle = self._client.get_workflow_handle_for(DossierWorkflow.run, target)
        try:
            return await handle.query(DossierWorkflow.status)
        except (RPCError, WorkflowQueryFailedError) as exc:  # done; only the read failed
            raise Unavailable("l’action est faite ; l’état du dossier est momentanément "
                              "indisponible") from exc

    async def _consultation(self, number: int, region: str) -> str:
        """The workflow id of the region's current round (an admin may have opened a new one)."""
        handle = self._client.get_workflow_handle_for(DossierWorkflow.run,
                                                      dossier_workflow_id(number))
        try:
            ids = await handle.query(DossierWorkflow.consultation_ids)
        except (RPCError, WorkflowQueryFailedError):
            # Closed long ago, or no worker to answer: the first round, as before rounds.
            return consultation_workflow_id(number, region)
        return ids.get(region, consultation_workflow_id(number, region))

    async def change_deadline(self, number: int, region: str, change: DeadlineChange
                              ) -> datetime:
        target = await self._consultation(number, region)
        result: datetime = await audited(
            self._db, change.agent, "change_deadline", target, change.reason,
            {"deadline": change.deadline.isoformat()},
            lambda: self._update(target, "change_deadline", change, datetime))
        return result

    async def replace_member(self, number: int, region: str, change: MemberReplacement
                             ) -> list[CraContact]:
        target = await self._consultation(number, region)

        async def directory() -> None:
            # Only once the workflow accepted the change (a refused one writes nothing), and
            # before its handler sends the invitation: the new member's link then works.
            async with self._db.unit_of_work() as session:
                members_repo = CraMemberRepository(session)
                await members_repo.upsert(change.new_member.model_dump())
                old = await members_repo.get(change.old_member_id)
                if old is not None:  # revocation: the pages check ``active`` on every request
                    old.active = False

        async def run() -> list[CraContact]:
            members: list[CraContact] = await self._update(
                target, "replace_member", change, list[CraContact], accepted=directory)
            return members

        result: list[CraContact] = await audited(
            self._db, change.agent, "replace_member", target, change.reason,
            {"old_member_id": change.old_member_id, "new_member_id": change.new_member.id}, run)
        return result

    async def resend_link(self, number: int, region: str, request: LinkResend) -> str:
        target = await self._consultation(number, region)
        key: str = await audited(
            self._db, request.agent, "resend_link", target, request.reason,
            {"member_id": request.member_id, "kind": request.kind.value},
            lambda: self._update(target, "resend_link", request, str))
        return key

    async def skip_consultation(self, number: int, region: str, request: ConsultationSkip
                                ) -> None:
        target = await self._consultation(number, region)
        await audited(self._db, request.agent, "skip_consultation", target, request.reason, {},
                      lambda: self._update(target, "skip", request, str))

    async def withdraw(self, number: int, request: Withdrawal) -> DossierStatus:
        target = dossier_workflow_id(number)
        status: DossierStatus = await audited(
            self._db, request.agent, "withdraw", target, request.reason, {},
            lambda: self._dossier_update(number, "withdraw", request))
        return status

    async def correct_referent_email(self, number: int, correction: ReferentCorrection
                                     ) -> DossierStatus:
        target = dossier_workflow_id(number)
        status: DossierStatus = await audited(
            self._db, correction.agent, "correct_referent_email", target, correction.reason,
            {"referent_email": correction.referent_email},
            lambda: self._dossier_update(number, "correct_referent_email", correction))
        return status

    async def correct_regions(self, number: int, correction: RegionCorrection) -> DossierStatus:
        target = dossier_workflow_id(number)
        params: dict[str, Any] = {"regions": correction.regions}
        if correction.territory is not None:
            params["territory"] = correction.territory.model_dump()
        status: DossierStatus = await audited(
            self._db, correction.agent, "correct_regions", target, correction.reason, params,
            lambda: self._dossier_update(number, "correct_regions", correction))
        return status

    async def send_back(self, number: int, request: SendBack) -> DossierStatus:
        target = dossier_workflow_id(number)
        status: DossierStatus = await audited(
            self._db, request.agent, "send_back", target, request.reason,
            {"to": request.to.value, "regions": request.regions},
            lambda: self._dossier_update(number, "send_back", request))
        return status

    async def resume(self, number: int, region: str | None, resolution: BlockResolution) -> Block:
        """Resolves a blocked step of the dossier (or of its consultation of ``region``)."""
        target = (await self._consultation(number, region) if region
                  else dossier_workflow_id(number))
        params: dict[str, Any] = {"action": resolution.action.value, "block": resolution.block}
        block: Block = await audited(
            self._db, resolution.agent, "resume", target, resolution.reason, params,
            lambda: self._update(target, "resume", resolution, Block))
        return block
