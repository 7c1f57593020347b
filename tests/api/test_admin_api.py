"""`/api/admin`: an admin session is let in (agents and anonymous callers are refused: see
test_agents_openapi.py); a blank reason is refused before anything reaches Temporal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.responses import Response

from api.app import create_app
from api.auth.roles import Role
from api.auth.session import AgentSession, Cookies, Source
from core.db.engine import Database, create_engine, create_schema
from core.db.repositories import AdminActionRepository, AgentRoleRepository
from core.settings import AgentPageSettings, Settings

pytestmark = pytest.mark.asyncio(loop_scope="session")
BASE = "http://agents.test"


@pytest.fixture
async def admin_http(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Database]]:
    db = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ptce.db'}"))
    await create_schema(db.engine)
    async with db.unit_of_work() as session:
        await AgentRoleRepository(session).put("admin-1", "admin", "test")
    settings = Settings(environment="test", agents=AgentPageSettings(
        session_secret="admin-secret"))  # type: ignore[arg-type]
    app: FastAPI = create_app(settings, db=db)
    app.state.temporal = None  # never reached: the refusals below happen before any Update
    response = Response()
    Cookies(settings).write_session(response, AgentSession(
        sub="admin-1", email="admin-1@finances.gouv.fr", name="Ada", role=Role.ADMIN,
        source=Source.OIDC, csrf="csrf"))
    cookie = response.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE,
                                 headers={"X-CSRF-Token": "csrf"}) as http:
        http.cookies.set("ptce_agent", cookie)
        yield http, db
    await db.dispose()


async def test_an_admin_reads_the_audit(admin_http: tuple[httpx.AsyncClient, Database]) -> None:
    http, db = admin_http
    async with db.unit_of_work() as session:
        AdminActionRepository(session).add(
            at=datetime(2026, 11, 27, 5, 0, tzinfo=UTC), actor_id="admin-1",
            actor_name="Ada", action="withdraw", target="dossier-7", reason="demande du porteur",
            params={}, result="done")
    r = await http.get("/api/admin/actions")
    assert r.status_code == 200
    assert [(a["action"], a["target"], a["result"]) for a in r.json()] == [
        ("withdraw", "dossier-7", "done")]


async def test_a_blank_reason_is_refused(admin_http: tuple[httpx.AsyncClient, Database]) -> None:
    http, _ = admin_http
    r = await http.post("/api/admin/dossiers/7/withdraw", json={"reason": "   "})
    assert r.status_code == 422
    r = await http.post("/api/admin/dossiers/7/consultations/53/skip", json={})
    assert r.status_code == 422
