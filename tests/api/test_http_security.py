"""The API's edges as an attacker tries them: the CRA rate limit behind a reverse proxy (and a
spoofed ``X-Forwarded-For`` from anyone else), DNS rebinding through the Host header, bodies
too large before authentication, malformed forms, ``/metrics`` and ``/docs`` in production,
a signed-out session replayed, secrets in the access log and in spans."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.responses import Response

from api.app import create_app
from api.auth.roles import Role
from api.auth.session import AgentSession, Cookies, Source, new_sid
from api.cra.redaction import RedactLinkTokens
from api.hardening import _redact_url
from core.db.engine import Database, create_engine, create_schema
from core.db.repositories import AgentRoleRepository
from core.settings import AgentPageSettings, ApiSettings, Settings
from core.telemetry.logs import RedactFilter
from tests.api.site import Site, site_settings
from tests.security.production import settings_from, strong_env

pytestmark = pytest.mark.asyncio(loop_scope="session")
PROXY, ALICE, BOB = "10.0.0.1", "203.0.113.7", "203.0.113.8"


def _through(app: FastAPI, peer: str, base_url: str = "http://127.0.0.1:8000") -> httpx.AsyncClient:
    """A client whose TCP peer is ``peer`` (the proxy, or someone talking to us directly)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(peer, 40000)),
                             base_url=base_url, timeout=20)


def _cra_app(site: Site, trusted: list[str], per_client: int = 5) -> FastAPI:
    settings = site_settings(site.stack, "http://127.0.0.1:8000", rate_limit_per_client=per_client,
                             rate_limit_per_token=50)
    settings.api = ApiSettings(public_base_url="http://127.0.0.1:8000", trusted_proxies=trusted)
    return create_app(settings, temporal=site.client, db=site.stack.res.db)


@pytest.fixture(scope="module")
async def genuine(site: Site) -> str:
    number = await site.start(0)
    return next(iter((await site.tokens(number)).values()))


async def test_behind_a_trusted_proxy_junk_from_one_client_locks_out_no_one_else(
        site: Site, genuine: str) -> None:
    app = _cra_app(site, trusted=[PROXY])
    async with _through(app, PROXY) as proxy:
        junk = [(await proxy.get(f"/cra/avis/v2.k1.junk{i}.x",
                                 headers={"X-Forwarded-For": ALICE})).status_code for i in range(6)]
        assert junk == [404] * 5 + [429]
        # Another client behind the same proxy has its own bucket...
        other = await proxy.get("/cra/avis/v2.k1.junk.x", headers={"X-Forwarded-For": BOB})
        assert other.status_code == 404
        # ... and a genuine link passes, even from the client that sent the junk.
        for client in (BOB, ALICE):
            page = await proxy.get(f"/cra/avis/{genuine}", headers={"X-Forwarded-For": client})
            assert page.status_code == 200, page.text
        # The audit keys the real client (hashed), not the proxy.
        rows = await site.audit(outcome="invalid_link")
        guard = app.state.cra.guard
        hashes = {r.client_hash for r in rows}
        assert guard.client_hash(ALICE) in hashes and guard.client_hash(PROXY) not in hashes


async def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(site: Site) -> None:
    app = _cra_app(site, trusted=[PROXY])
    async with _through(app, "198.51.100.9") as direct:
        statuses = [(await direct.get(f"/cra/avis/v2.k1.spoof{i}.x", headers={
            "X-Forwarded-For": f"192.0.2.{i}"})).status_code for i in range(6)]
    assert statuses == [404] * 5 + [429]  # one bucket: the peer's, whatever it claims


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ptce.db'}"))
    await create_schema(database.engine)
    yield database
    await database.dispose()


def _dev_app(db: Database) -> FastAPI:
    settings = Settings(environment="dev", agents=AgentPageSettings(session_secret="s" * 40))  # type: ignore[arg-type]
    return create_app(settings, temporal=SimpleNamespace(), db=db)  # type: ignore[arg-type]


async def test_dns_rebinding_to_a_local_stack_gets_no_admin_session(db: Database) -> None:
    """A page of rebind.example, whose name now resolves to 127.0.0.1, posts the development
    sign-in: the Host header is not served and never counts as our origin."""
    app = _dev_app(db)
    form = {"name": "Mallory", "email": "m@example.org", "role": "admin"}
    async with _through(app, "127.0.0.1", "http://rebind.example:8000") as page:
        refused = await page.post("/connexion/dev", data=form,
                                  headers={"Origin": "http://rebind.example:8000"})
        assert refused.status_code == 400 and "ptce_agent" not in refused.headers.get(
            "set-cookie", "")
        codec = await page.post("/codec/decode", json={"payloads": []},
                                headers={"Origin": "http://127.0.0.1:8233"})
        assert codec.status_code == 400  # the dev codec shortcut is not reachable either
    # Served Host, foreign Origin: the sign-in form is refused too (the Host is not an origin).
    async with _through(app, "127.0.0.1") as local:
        refused = await local.post("/connexion/dev", data=form,
                                   headers={"Origin": "http://rebind.example:8000"})
        assert refused.status_code == 403
        ok = await local.post("/connexion/dev", data=form,
                              headers={"Origin": "http://localhost:8000"})
        assert ok.status_code == 303  # the developer's own browser, on either loopback name


async def test_bodies_too_large_are_refused_before_authentication(db: Database) -> None:
    settings = Settings(environment="test", agents=AgentPageSettings(session_secret="s" * 40),  # type: ignore[arg-type]
                        api=ApiSettings(max_body_bytes=64 * 1024, codec_max_body_bytes=256 * 1024))
    app = create_app(settings, temporal=SimpleNamespace(), db=db)  # type: ignore[arg-type]
    big = b"{" + b" " * (100 * 1024) + b"}"
    async with _through(app, "127.0.0.1") as http:
        for path in ("/api/admin/agents", "/api/dossiers/1/decision", "/webhooks/ds/x",
                     "/connexion/dev", "/cra/avis/v2.k1.x.y"):
            r = await http.post(path, content=big, headers={"Content-Type": "application/json"})
            assert r.status_code == 413 and r.json()["error"] == "too_large", path

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
            for _ in range(10):
                yield b" " * 10_000

        streamed = await http.post("/api/admin/agents", content=chunks())
        assert streamed.status_code == 413
        # The codec endpoint has its own, larger cap (the UI's batches), then asks who you are.
        codec = await http.post("/codec/decode", content=big,
                                headers={"Content-Type": "application/json"})
        assert codec.status_code == 401
        huge = await http.post("/codec/decode", content=big * 3,
                               headers={"Content-Type": "application/json"})
        assert huge.status_code == 413
        small = await http.put("/api/admin/agents", json={"principal": "x", "role": "agent"})
        assert small.status_code == 401  # under the cap: authentication decides


async def test_a_cra_form_with_too_many_fields_is_a_french_400(site: Site, genuine: str) -> None:
    async with httpx.AsyncClient(timeout=20) as http:
        fields = {f"f{i}": "x" for i in range(25)}
        r = await http.post(site.url(genuine), data=fields)
    assert r.status_code == 400 and "Formulaire illisible" in r.text
    assert "Votre avis n’a pas été enregistré" in r.text


async def test_a_malformed_agents_form_is_a_french_400(db: Database) -> None:
    app = _dev_app(db)
    async with _through(app, "127.0.0.1") as http:
        r = await http.post("/connexion/dev", data={"name": "x", "role": "emperor"})
    assert r.status_code == 400 and "Formulaire illisible" in r.text
    assert r.headers["content-type"].startswith("text/html")


async def _production_app(db: Database, monkeypatch: pytest.MonkeyPatch, **env: str) -> FastAPI:
    settings = settings_from({**strong_env(), **env}, monkeypatch)
    client = SimpleNamespace(count_workflows=None)
    return create_app(settings, temporal=client, db=db)  # type: ignore[arg-type]


async def test_metrics_and_docs_are_closed_in_production(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    base = "https://ptce.example.gouv.fr"
    app = await _production_app(db, monkeypatch)
    async with _through(app, "10.1.2.3", base) as http:
        assert (await http.get("/metrics")).status_code == 404  # no token configured
        for path in ("/docs", "/openapi.json", "/redoc"):
            assert (await http.get(path)).status_code in (303, 401, 404), path
        assert "openapi" not in (await http.get("/docs", follow_redirects=True)).text.lower()
    token = secrets.token_urlsafe(32)
    app = await _production_app(db, monkeypatch, PTCE_API__METRICS_TOKEN=token)
    app.state.temporal = _CountingClient()
    async with _through(app, "10.1.2.3", base) as http:
        assert (await http.get("/metrics")).status_code == 401
        assert (await http.get("/metrics", headers={"Authorization": "Bearer x"})).status_code == 401
        ok = await http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and "ptce_dossiers" in ok.text


class _CountingClient:
    async def count_workflows(self, query: str) -> Any:
        return SimpleNamespace(count=0)


async def test_a_signed_out_session_cookie_is_dead_even_when_replayed(db: Database) -> None:
    settings = Settings(environment="test", agents=AgentPageSettings(session_secret="s" * 40))  # type: ignore[arg-type]
    app = create_app(settings, temporal=SimpleNamespace(), db=db)  # type: ignore[arg-type]
    async with db.unit_of_work() as session:
        await AgentRoleRepository(session).put("agent-9", "agent", "test")
    response = Response()
    Cookies(settings).write_session(response, AgentSession(
        sid=new_sid(), sub="agent-9", email="agent.9@finances.gouv.fr", name="Neuf",
        role=Role.AGENT, source=Source.OIDC, csrf="csrf"))
    cookie = response.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    async with _through(app, "127.0.0.1", "http://127.0.0.1:8000") as http:
        http.cookies.set("ptce_agent", cookie)
        assert (await http.get("/api/session")).status_code == 200
        out = await http.post("/deconnexion", data={"csrf_token": "csrf"})
        assert out.status_code == 303
        http.cookies.set("ptce_agent", cookie)  # a copy kept somewhere
        assert (await http.get("/api/session")).status_code == 401


async def test_the_webhook_secret_and_the_oidc_code_stay_out_of_logs_and_spans() -> None:
    secret = secrets.token_urlsafe(32)
    for path in (f"/webhooks/ds/{secret}", f"/connexion/retour?code={secret}&state={secret}"):
        record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                                   '%s - "%s %s HTTP/%s" %d', ("10.0.0.1:5", "GET", path, "1.1", 202),
                                   None)
        RedactLinkTokens().filter(record)
        RedactFilter().filter(record)
        assert secret not in record.getMessage()

        class Span:
            def __init__(self, target: str) -> None:
                self.attributes = {"http.target": target,
                                   "url.full": f"https://ptce.example.gouv.fr{target}"}

            def is_recording(self) -> bool:
                return True

            def set_attribute(self, key: str, value: str) -> None:
                self.attributes[key] = value

        span = Span(path)
        _redact_url(span, {})  # type: ignore[arg-type]
        assert all(secret not in v for v in span.attributes.values())

