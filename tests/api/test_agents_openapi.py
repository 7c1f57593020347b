"""No agent or admin endpoint is left open: every operation of the OpenAPI schema, and every
page outside it, is called without a session and with a wrong-role session, and refused,
except the public ones listed here."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.responses import Response
from starlette.routing import Route

from api.app import create_app
from api.auth.roles import Role
from api.auth.session import AgentSession, Cookies, Source, new_sid
from core.db.engine import Database, create_engine, create_schema
from core.db.repositories import AgentRoleRepository
from core.settings import AgentPageSettings, Settings

pytestmark = pytest.mark.asyncio(loop_scope="session")
BASE = "http://agents.test"

PUBLIC_OPERATIONS = {("/healthz", "get"), ("/webhooks/ds/{secret}", "post")}
# /metrics: aggregated counts for Prometheus, no identifier or personal data (api/routes/metrics.py).
PUBLIC_PAGES = {"/", "/connexion", "/connexion/oidc", "/connexion/retour", "/connexion/dev",
                "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/metrics"}
PUBLIC_PREFIXES = ("/cra/avis/", "/static/")
SAMPLE = {"number": "1", "principal": "someone@example.org", "secret": "x", "token": "x"}


def _fill(path: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: SAMPLE.get(m.group(1), "x"), path)


def _cookie(settings: Settings, sub: str, role: Role) -> str:
    response = Response()
    Cookies(settings).write_session(response, AgentSession(sid=new_sid(),
        sub=sub, email=f"{sub}@finances.gouv.fr", name=sub, role=role, source=Source.OIDC,
        csrf="csrf"))
    return response.headers["set-cookie"].split(";")[0].split("=", 1)[1]


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, Settings]]:
    db = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ptce.db'}"))
    await create_schema(db.engine)
    async with db.unit_of_work() as session:
        await AgentRoleRepository(session).put("agent-1", "agent", "test")
    settings = Settings(environment="test", agents=AgentPageSettings(
        session_secret="walk-secret"))  # type: ignore[arg-type]
    yield create_app(settings, db=db), settings
    await db.dispose()


def _all_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (path, method), included routers flattened (FastAPI ≥ 0.13x nests them)."""
    found: list[tuple[str, str]] = []
    for route in app.routes:
        if isinstance(route, APIRoute | Route):
            found += [(route.path, m) for m in route.methods or ()]
        elif hasattr(route, "effective_route_contexts"):
            for context in route.effective_route_contexts():
                methods = getattr(context.original_route, "methods", None) or ()
                found += [(context.path, m) for m in methods]
    assert found, "no route found: the router layout of FastAPI changed"
    return found


def _refused(response: httpx.Response) -> bool:
    if response.status_code in (401, 403):
        return True
    return response.status_code == 303 and response.headers["location"].startswith("/connexion")


async def test_every_operation_refuses_without_a_session_or_with_a_wrong_role(
        app: tuple[FastAPI, Settings]) -> None:
    application, settings = app
    schema = application.openapi()
    roleless, agent = _cookie(settings, "nobody", Role.ADMIN), _cookie(settings, "agent-1", Role.AGENT)
    operations = [(path, method) for path, item in schema["paths"].items() for method in item]
    guarded = [op for op in operations if op not in PUBLIC_OPERATIONS]
    assert len(guarded) >= 9 and set(PUBLIC_OPERATIONS) <= set(operations)
    open_ones: list[str] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                                 base_url=BASE) as http:
        for path, method in guarded:
            # Wrong role: an admin path with an agent's session; any path with a session whose
            # role was withdrawn (an OIDC session whose account has no row any more).
            sessions = [None, roleless] + ([agent] if path.startswith("/api/admin") else [])
            for cookie in sessions:
                http.cookies.clear()
                if cookie:
                    http.cookies.set("ptce_agent", cookie)
                r = await http.request(method.upper(), _fill(path), headers={"X-CSRF-Token": "csrf"})
                if r.status_code not in (401, 403):
                    open_ones.append(f"{method.upper()} {path} ({cookie and 'session'}): {r.status_code}")
                elif cookie is None:
                    assert r.status_code == 401, path
    assert not open_ones, open_ones


async def test_every_page_outside_the_schema_refuses_too(app: tuple[FastAPI, Settings]) -> None:
    application, settings = app
    roleless = _cookie(settings, "nobody", Role.ADMIN)
    in_schema = {(p, m.upper()) for p, item in application.openapi()["paths"].items() for m in item}
    guarded = [(p, m) for p, m in _all_routes(application) if (p, m) not in in_schema
               and p not in PUBLIC_PAGES and not p.startswith(PUBLIC_PREFIXES)]
    assert {"/agents", "/agents/dossiers/{number}", "/admin/agents", "/deconnexion"} <= {
        p for p, _ in guarded}
    open_ones: list[str] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                                 base_url=BASE) as http:
        for path, method in guarded:
            for cookie in (None, roleless):
                http.cookies.clear()
                if cookie:
                    http.cookies.set("ptce_agent", cookie)
                r = await http.request(method, _fill(path))
                if not _refused(r):
                    open_ones.append(f"{method} {path}: {r.status_code}")
    assert not open_ones, open_ones


async def test_a_json_action_needs_the_csrf_header(app: tuple[FastAPI, Settings]) -> None:
    application, settings = app
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                                 base_url=BASE) as http:
        http.cookies.set("ptce_agent", _cookie(settings, "agent-1", Role.AGENT))
        r = await http.post("/api/dossiers/1/decision", json={"outcome": "laureat"})
        assert r.status_code == 403 and r.json()["error"] == "csrf_refused"
        r = await http.post("/api/dossiers/1/decision", json={"outcome": "laureat"},
                            headers={"X-CSRF-Token": "forged"})
        assert r.status_code == 403
