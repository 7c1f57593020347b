"""Admin JSON endpoints under ``/api/admin`` (the admin role and the CSRF header required),
and the admin page of stuck dossiers, ``/admin/bloques`` (the admin role required).

The acting admin comes from the session, never from the body; the reason is required.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, ValidationError

from api.admin.desk import AdminDesk
from api.admin.stuck import StuckCase, find_stuck
from api.admin.stuck_page import pages as stuck_pages
from api.auth.deps import ApiAdmin
from api.deps import AppSettings, TemporalClient
from api.errors import ApiError
from api.routes.idempotency import IdempotencyKey
from core.db.engine import Database
from core.db.repositories import AdminActionRepository
from core.domain.admin import (
    BackTo,
    Block,
    BlockAction,
    BlockResolution,
    ConsultationSkip,
    DeadlineChange,
    LinkKind,
    LinkResend,
    MemberReplacement,
    ReferentCorrection,
    RegionCorrection,
    SendBack,
    Withdrawal,
)
from core.domain.cra import CraContact
from core.domain.dossier import TerritoryFlags
from workflows.payloads import DossierStatus

api = APIRouter(prefix="/api/admin", tags=["admin"])
REFUSED: dict[int | str, dict[str, Any]] = {409: {"description": "Refusé par le workflow (validateur)"}}
M = TypeVar("M", bound=BaseModel)


class Invalid(ApiError):
    status_code = 422
    code = "invalid"


def _database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _desk(client: TemporalClient, db: Annotated[Database, Depends(_database)],
          key: IdempotencyKey = None) -> AdminDesk:
    """Each request's Updates carry its ``Idempotency-Key``: a retried request is applied once."""
    return AdminDesk(client, db, key)


Desk = Annotated[AdminDesk, Depends(_desk)]


def _build(model: type[M], **values: Any) -> M:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "requête" for e in exc.errors())
        raise Invalid(f"données invalides : {fields}") from exc


class ReasonBody(BaseModel):
    reason: str = Field(max_length=2000, description="Motif (obligatoire, conservé au journal)")


class DeadlineBody(ReasonBody):
    deadline: datetime


class ReplacementBody(ReasonBody):
    old_member_id: str
    new_member: CraContact


class ResendBody(ReasonBody):
    member_id: str
    kind: LinkKind = LinkKind.INVITATION


class ReferentBody(ReasonBody):
    referent_email: str


class RegionsBody(ReasonBody):
    regions: list[str] = Field(description="Codes INSEE (ou noms) des régions, la principale "
                                           "d’abord")
    territory: TerritoryFlags | None = Field(
        default=None, description="Territoire fragile corrigé (inchangé si absent)")


class SendBackBody(ReasonBody):
    to: BackTo
    regions: list[str] = Field(default_factory=list,
                               description="consultation : régions consultées à nouveau "
                                           "(toutes si vide)")


class ResumeBody(ReasonBody):
    action: BlockAction = Field(default=BlockAction.RETRY,
                                description="retry : réessayer ; skip : étape faite à la main ; "
                                            "close : clore avec le motif")
    region: str | None = Field(default=None, description="consultation bloquée de cette région")
    block: int | None = Field(default=None, description="bloc visé, s’il y en a plusieurs")


class AuditRow(BaseModel):
    at: datetime
    actor_id: str
    action: str
    target: str
    reason: str
    result: str
    detail: str | None = None


@api.get("/stuck", response_model=list[StuckCase])
async def stuck(_: ApiAdmin, client: TemporalClient, settings: AppSettings) -> list[StuckCase]:
    """Dossiers, consultations and the intake that need an admin, with the reasons."""
    return await find_stuck(client, datetime.now(UTC),
                            demarches=[settings.platform.demarche_number])


@api.get("/actions", response_model=list[AuditRow])
async def actions(_: ApiAdmin, db: Annotated[Database, Depends(_database)]) -> list[AuditRow]:
    """The audit of admin actions, oldest first."""
    async with db.unit_of_work() as session:
        rows = await AdminActionRepository(session).list_for()
        return [AuditRow.model_validate(r, from_attributes=True) for r in rows]


@api.post("/dossiers/{number}/consultations/{region}/deadline", responses=REFUSED)
async def change_deadline(number: int, region: str, body: DeadlineBody, session: ApiAdmin,
                          desk: Desk) -> datetime:
    """Extend or shorten the consultation's deadline: its timers are re-armed."""
    return await desk.change_deadline(number, region, _build(
        DeadlineChange, agent=session.agent, **body.model_dump()))


@api.post("/dossiers/{number}/consultations/{region}/members", responses=REFUSED,
             response_model=list[CraContact])
async def replace_member(number: int, region: str, body: ReplacementBody, session: ApiAdmin,
                         desk: Desk) -> list[CraContact]:
    """Replace a member of the pair: the old one's links are revoked, the new one invited."""
    return await desk.replace_member(number, region, _build(
        MemberReplacement, agent=session.agent, **body.model_dump()))


@api.post("/dossiers/{number}/consultations/{region}/resend", responses=REFUSED)
async def resend_link(number: int, region: str, body: ResendBody, session: ApiAdmin,
                      desk: Desk) -> str:
    """Send a member's link again (invitation or reminder): once per request."""
    return await desk.resend_link(number, region, _build(
        LinkResend, agent=session.agent, **body.model_dump()))


@api.post("/dossiers/{number}/consultations/{region}/skip", responses=REFUSED)
async def skip_consultation(number: int, region: str, body: ReasonBody, session: ApiAdmin,
                            desk: Desk) -> None:
    """Close a consultation without an opinion (status ``skipped``)."""
    await desk.skip_consultation(number, region, _build(
        ConsultationSkip, agent=session.agent, **body.model_dump()))


@api.post("/dossiers/{number}/withdraw", responses=REFUSED, response_model=DossierStatus)
async def withdraw(number: int, body: ReasonBody, session: ApiAdmin, desk: Desk) -> DossierStatus:
    """Withdraw at the applicant's request: closed *sans suite* on the platform, applicant told."""
    return await desk.withdraw(number, _build(
        Withdrawal, agent=session.agent, **body.model_dump()))


@api.post("/dossiers/{number}/referent", responses=REFUSED, response_model=DossierStatus)
async def correct_referent(number: int, body: ReferentBody, session: ApiAdmin, desk: Desk
                           ) -> DossierStatus:
    """Correct the referent's email address: later emails go there; the dossier is re-checked."""
    return await desk.correct_referent_email(number, _build(
        ReferentCorrection, agent=session.agent, **body.model_dump()))


@api.post("/dossiers/{number}/regions", responses=REFUSED, response_model=DossierStatus)
async def correct_regions(number: int, body: RegionsBody, session: ApiAdmin, desk: Desk
                          ) -> DossierStatus:
    """Correct the regions (and the fragile-territory flags): re-checked; once consulted, a
    region no longer concerned has its consultation closed and a new region is consulted."""
    return await desk.correct_regions(number, _build(
        RegionCorrection, agent=session.agent, **body.model_dump()))


@api.post("/dossiers/{number}/send-back", responses=REFUSED, response_model=DossierStatus)
async def send_back(number: int, body: SendBackBody, session: ApiAdmin, desk: Desk
                    ) -> DossierStatus:
    """Send back to admissibility (from instruction) or to the CRA consultation (a new round
    for the regions named, all when none)."""
    return await desk.send_back(number, _build(
        SendBack, agent=session.agent, **body.model_dump()))


@api.post("/dossiers/{number}/resume", responses=REFUSED, response_model=Block)
async def resume(number: int, body: ResumeBody, session: ApiAdmin, desk: Desk) -> Block:
    """Resume a step blocked by a failure retrying could not cure (see ``/stuck``)."""
    return await desk.resume(number, body.region, _build(
        BlockResolution, agent=session.agent, reason=body.reason, action=body.action,
        block=body.block))


router = APIRouter()
router.include_router(api)
router.include_router(stuck_pages)
