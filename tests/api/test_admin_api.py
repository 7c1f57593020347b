"""`/api/admin`: an admin session is let in (agents and anonymous callers are refused: see
test_agents_openapi.py); a blank reason is refused before anything reaches Temporal. The page
of stuck dossiers, `/admin/bloques`, is for admins only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.responses import Response

from api.admin import stuck_page
from api.admin.stuck import StuckCase, StuckKind, StuckReason
from api.app import create_app
from api.auth.roles import Role
from api.auth.session import AgentSession, Cookies, Source, new_sid
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
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE,
                                 headers={"X-CSRF-Token": "csrf"}) as http:
        http.cookies.set("ptce_agent", _cookie(settings, "admin-1", Role.ADMIN))
        yield http, db
    await db.dispose()


def _cookie(settings: Settings, sub: str, role: Role) -> str:
    response = Response()
    Cookies(settings).write_session(response, AgentSession(sid=new_sid(),
        sub=sub, email=f"{sub}@finances.gouv.fr", name="Ada", role=role,
        source=Source.OIDC, csrf="csrf"))
    return response.headers["set-cookie"].split(";")[0].split("=", 1)[1]


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
    r = await http.post("/api/admin/dossiers/7/send-back", json={"reason": " ",
                                                                "to": "admissibility"})
    assert r.status_code == 422


async def test_bad_region_corrections_and_send_backs_are_refused_in_french(
        admin_http: tuple[httpx.AsyncClient, Database]) -> None:
    http, db = admin_http
    r = await http.post("/api/admin/dossiers/7/regions",
                        json={"reason": "erreur de saisie", "regions": ["99"]})
    assert r.status_code == 422
    assert r.json()["message"] == "données invalides : regions"
    r = await http.post("/api/admin/dossiers/7/regions", json={"reason": "x", "regions": []})
    assert r.status_code == 422
    r = await http.post("/api/admin/dossiers/7/send-back",
                        json={"reason": "x", "to": "awaiting_correction"})
    assert r.status_code == 422  # only admissibility or consultation
    r = await http.post("/api/admin/dossiers/7/send-back",
                        json={"reason": "x", "to": "consultation", "regions": ["Atlantide"]})
    assert r.status_code == 422
    async with db.unit_of_work() as session:
        assert await AdminActionRepository(session).list_for() == []  # nothing happened


async def test_the_stuck_page_lists_the_cases_for_admins_only(
        admin_http: tuple[httpx.AsyncClient, Database], monkeypatch: pytest.MonkeyPatch) -> None:
    http, db = admin_http
    async with db.unit_of_work() as session:
        await AgentRoleRepository(session).put("agent-1", "agent", "test")
    deadline = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

    async def found(client: object, now: datetime, after: timedelta = timedelta(days=14),
                    **_: object) -> list[StuckCase]:
        return [
            StuckCase(workflow_id="dossier-7", workflow_type="DossierWorkflow", number=7,
                      stage="instruction", stage_deadline=deadline, reasons=[StuckReason(
                          kind=StuckKind.DECISION_WAITING,
                          detail="décision attendue depuis le 20/11/2026")]),
            StuckCase(workflow_id="dossier-8-cra-53-r2", workflow_type="CraConsultationWorkflow",
                      number=8, stage="consultation", reasons=[StuckReason(
                          kind=StuckKind.WORKFLOW_TASK_FAILING,
                          detail="tâche de workflow en échec (tentative 4)")]),
        ]

    monkeypatch.setattr(stuck_page, "find_stuck", found)
    r = await http.get("/admin/bloques")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "<h1>Dossiers bloqués</h1>" in page
    assert '<a href="/agents/dossiers/7">n° 7</a>' in page
    assert "Décision en attente trop longue</strong> : décision attendue depuis le 20/11/2026" in page
    assert "Instruction finale" in page  # the stage, in French
    assert "Consultation d’une CRA" in page and "dossier-8-cra-53-r2" in page
    assert "Tâche de workflow en échec</strong> : tâche de workflow en échec (tentative 4)" in page

    settings = Settings(environment="test", agents=AgentPageSettings(
        session_secret="admin-secret"))  # type: ignore[arg-type]
    http.cookies.set("ptce_agent", _cookie(settings, "agent-1", Role.AGENT))
    r = await http.get("/admin/bloques")
    assert r.status_code == 403
    assert "Votre rôle ne permet pas d’ouvrir cette page." in r.text
    assert "dossier-7" not in r.text
    http.cookies.clear()
    r = await http.get("/admin/bloques")
    assert r.status_code == 303 and r.headers["location"].startswith("/connexion")
