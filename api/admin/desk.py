"""Admin amendments: each one a workflow Update (a validator refuses what does not apply),
carrying the admin and the reason, audited in the database whatever its outcome."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.admin.audit import audited
from api.errors import Refused, Unavailable
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
from workflows.payloads import DossierStatus

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
    def __init__(self, client: Client, db: Database) -> None:
        self._client = client
        self._db = db

    async def _update(self, workflow_id: str, name: str, payload: BaseModel,
                      result_type: type[Any]) -> Any:
        handle = self._client.get_workflow_handle(workflow_id)
        try:
            return await handle.execute_update(name, payload, result_type=result_type)
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

        async def run() -> list[CraContact]:
            # The new member's link must work before the invitation leaves.
            async with self._db.unit_of_work() as session:
                members_repo = CraMemberRepository(session)
                known = await members_repo.get(change.new_member.id) is not None
                await members_repo.upsert(change.new_member.model_dump())
            try:
                members: list[CraContact] = await self._update(
                    target, "replace_member", change, list[CraContact])
            except Exception:
                if not known:  # refused: no stray member for the region's next dossiers
                    async with self._db.unit_of_work() as session:
                        added = await CraMemberRepository(session).get(change.new_member.id)
                        if added is not None:
                            await session.delete(added)
                raise
            # Revocation: the CRA pages check ``active`` on every request.
            async with self._db.unit_of_work() as session:
                old = await CraMemberRepository(session).get(change.old_member_id)
                if old is not None:
                    old.active = False
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
            lambda: self._update(target, "withdraw", request, DossierStatus))
        return status

    async def correct_referent_email(self, number: int, correction: ReferentCorrection
                                     ) -> DossierStatus:
        target = dossier_workflow_id(number)
        status: DossierStatus = await audited(
            self._db, correction.agent, "correct_referent_email", target, correction.reason,
            {"referent_email": correction.referent_email},
            lambda: self._update(target, "correct_referent_email", correction, DossierStatus))
        return status

    async def correct_regions(self, number: int, correction: RegionCorrection) -> DossierStatus:
        target = dossier_workflow_id(number)
        params: dict[str, Any] = {"regions": correction.regions}
        if correction.territory is not None:
            params["territory"] = correction.territory.model_dump()
        status: DossierStatus = await audited(
            self._db, correction.agent, "correct_regions", target, correction.reason, params,
            lambda: self._update(target, "correct_regions", correction, DossierStatus))
        return status

    async def send_back(self, number: int, request: SendBack) -> DossierStatus:
        target = dossier_workflow_id(number)
        status: DossierStatus = await audited(
            self._db, request.agent, "send_back", target, request.reason,
            {"to": request.to.value, "regions": request.regions},
            lambda: self._update(target, "send_back", request, DossierStatus))
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
