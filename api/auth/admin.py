"""Admins manage who may sign in and with which role: a page and the same JSON endpoints."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field, field_validator

from api.auth.deps import ApiAdmin, PageAdmin, check_form
from api.auth.roles import ROLE_LABELS, Role, principal_of_email
from api.auth.state import AuthState, auth_state
from api.errors import ApiError, NotFound
from core.db.engine import Database
from core.db.repositories import AgentRoleRepository

log = logging.getLogger("ptce.api.auth")
pages = APIRouter(prefix="/admin", include_in_schema=False)
api = APIRouter(prefix="/api/admin", tags=["admin"])
State = Annotated[AuthState, Depends(auth_state)]


class RoleGrant(BaseModel):
    principal: str = Field(min_length=1, max_length=320,
                           description="Adresse électronique, ou identifiant (sub) du fournisseur")
    role: Role

    @field_validator("principal")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("adresse électronique ou identifiant requis")
        return value.strip()


class RoleRow(RoleGrant):
    added_by: str
    added_at: datetime | None = None


def _principal(value: str) -> str:
    value = value.strip()
    return principal_of_email(value) if "@" in value else value


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def _rows(db: Database) -> list[RoleRow]:
    async with db.unit_of_work() as session:
        return [RoleRow(principal=r.principal, role=Role(r.role), added_by=r.added_by,
                        added_at=r.added_at) for r in await AgentRoleRepository(session).list_all()]


async def _put(db: Database, grant: RoleGrant, by: str) -> None:
    async with db.unit_of_work() as session:
        await AgentRoleRepository(session).put(_principal(grant.principal), grant.role.value, by)
    log.info("role granted", extra={"role": grant.role.value})


async def _remove(db: Database, principal: str) -> bool:
    async with db.unit_of_work() as session:
        removed = await AgentRoleRepository(session).remove(_principal(principal))
    log.info("role removed", extra={"removed": removed})
    return removed


@api.get("/agents", response_model=list[RoleRow])
async def list_roles(request: Request, _: ApiAdmin) -> list[RoleRow]:
    return await _rows(_db(request))


@api.put("/agents", response_model=RoleRow)
async def grant_role(request: Request, grant: RoleGrant, session: ApiAdmin) -> RoleRow:
    await _put(_db(request), grant, session.agent.id)
    return RoleRow(principal=_principal(grant.principal), role=grant.role, added_by=session.agent.id)


@api.delete("/agents/{principal}", status_code=204)
async def remove_role(request: Request, principal: str, _: ApiAdmin) -> Response:
    if not await _remove(_db(request), principal):
        raise NotFound("aucun rôle pour ce compte")
    return Response(status_code=204)


@pages.get("/agents")
async def roles_page(request: Request, state: State, session: PageAdmin,
                     fait: str | None = None) -> Response:
    return state.pages.render("agents/admin_roles.html", session=session,
                              rows=await _rows(_db(request)), roles=ROLE_LABELS, done=fait,
                              error=None)


@pages.post("/agents")
async def grant_from_page(request: Request, state: State, session: PageAdmin,
                          principal: Annotated[str, Form()], role: Annotated[Role, Form()],
                          csrf_token: Annotated[str, Form()] = "") -> Response:
    check_form(request, session, csrf_token)
    if not principal.strip() or len(principal) > 320:
        raise ApiError("adresse électronique ou identifiant requis")
    await _put(_db(request), RoleGrant(principal=principal, role=role), session.agent.id)
    return RedirectResponse("/admin/agents?fait=ajout", status_code=303)


@pages.post("/agents/suppression")
async def remove_from_page(request: Request, session: PageAdmin,
                           principal: Annotated[str, Form()],
                           csrf_token: Annotated[str, Form()] = "") -> Response:
    check_form(request, session, csrf_token)
    await _remove(_db(request), principal)
    return RedirectResponse("/admin/agents?fait=suppression", status_code=303)
