"""The codec endpoint's edges: CORS for the Temporal UI's origin only, namespace, bad input."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from google.protobuf import json_format
from pydantic import SecretStr
from starlette.responses import Response
from temporalio.api.common.v1 import Payload

from api.app import create_app
from api.auth.roles import Role
from api.auth.session import AgentSession, Cookies, Source, new_sid
from core.codec import codec_from_keys, new_key
from core.db.engine import Database, create_engine, create_schema
from core.settings import AgentPageSettings, ApiSettings, Settings, TemporalSettings, get_settings

UI = "http://temporal-ui.test:8233"
PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "content-type,x-namespace"}


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    db = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ptce.db'}"))
    await create_schema(db.engine)
    settings = Settings(environment="test", temporal=TemporalSettings(ui_url=UI + "/"),
                        agents=AgentPageSettings(session_secret="s", bootstrap_admins=[
                            "chef@finances.gouv.fr"]))  # type: ignore[arg-type]
    yield create_app(settings, db=db)
    await db.dispose()


async def test_the_ui_origin_passes_the_preflight_and_no_other_does(app: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://api.test") as http:
        ok = await http.options("/codec/decode", headers={"Origin": UI, **PREFLIGHT})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == UI
        assert ok.headers["access-control-allow-credentials"] == "true"
        assert "x-namespace" in ok.headers["access-control-allow-headers"].lower()

        other = await http.options("/codec/decode",
                                   headers={"Origin": "https://evil.example", **PREFLIGHT})
        assert "access-control-allow-origin" not in other.headers

        # Elsewhere in the API, even the UI's origin gets no CORS answer.
        api = await http.get("/healthz", headers={"Origin": UI})
        assert "access-control-allow-origin" not in api.headers


async def test_unauthenticated_requests_are_refused_before_anything_else(app: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://api.test") as http:
        for path in ("/codec/decode", "/codec/encode"):
            r = await http.post(path, json={"payloads": []}, headers={"X-Namespace": "ptce"})
            assert r.status_code == 401


def test_make_run_points_the_temporal_ui_at_the_codec_endpoint() -> None:
    from api.cli.dev import plan

    settings = Settings(api=ApiSettings(public_base_url="http://127.0.0.1:8000/"))
    [temporal] = [c for c in plan(settings, 8025, 8100) if c.name == "temporal"]
    at = temporal.args.index("--ui-codec-endpoint")
    assert temporal.args[at + 1] == "http://127.0.0.1:8000/codec"


async def test_a_foreign_namespace_or_a_foreign_key_is_refused_clearly(app: FastAPI) -> None:
    settings: Settings = app.dependency_overrides[get_settings]()
    response = Response()
    Cookies(settings).write_session(response, AgentSession(sid=new_sid(),
        sub="admin", email="chef@finances.gouv.fr", name="Chef", role=Role.ADMIN,
        source=Source.OIDC, csrf="c"))
    cookie = response.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    [foreign] = await codec_from_keys([SecretStr(f"other:{new_key()}")]).encode(
        [Payload(metadata={"encoding": b"json/plain"}, data=b"{}")])
    body = {"payloads": [json_format.MessageToDict(foreign)]}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://api.test") as http:
        http.cookies.set("ptce_agent", cookie)
        r = await http.post("/codec/decode", json=body, headers={"X-Namespace": "elsewhere"})
        assert r.status_code == 404
        r = await http.post("/codec/decode", json=body, headers={"X-Namespace": "ptce"})
        assert r.status_code == 400 and r.json()["error"] == "undecodable_payload"


async def test_only_the_embedded_dev_stack_lets_its_local_ui_decode_without_a_session(
    tmp_path: Path,
) -> None:
    db = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'dev.db'}"))
    await create_schema(db.engine)
    keys = [SecretStr(f"k1:{new_key()}")]
    encoded = await codec_from_keys(keys).encode([Payload(metadata={"encoding": b"json/plain"},
                                                          data=b'"Maelle"')])
    body = {"payloads": [json_format.MessageToDict(p) for p in encoded]}
    try:
        for environment, origin, expected in (("dev", UI, 200), ("dev", None, 401),
                                              ("dev", "https://evil.example", 403),
                                              ("test", UI, 401)):
            settings = Settings(environment=environment, temporal=TemporalSettings(ui_url=UI),
                                agents=AgentPageSettings(session_secret="s-" * 20),
                                codec={"keys": keys})  # type: ignore[arg-type]
            app = create_app(settings, db=db)
            headers = {"Origin": origin} if origin else {}
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://api.test") as http:
                answer = await http.post("/codec/decode", json=body, headers=headers)
            assert answer.status_code == expected, (environment, origin, answer.text)
            if expected == 200:
                assert answer.json()["payloads"][0]["data"] == "Ik1hZWxsZSI="  # '"Maelle"'
    finally:
        await db.dispose()


def _admin_cookie(settings: Settings) -> str:
    response = Response()
    Cookies(settings).write_session(response, AgentSession(sid=new_sid(),
        sub="admin", email="chef@finances.gouv.fr", name="Chef", role=Role.ADMIN,
        source=Source.OIDC, csrf="c"))
    return response.headers["set-cookie"].split(";")[0].split("=", 1)[1]


async def test_the_codec_protocol_as_the_temporal_clients_speak_it(app: FastAPI) -> None:
    """Proto3 JSON: an empty list is omitted (``{}``), either field spelling, base64 in either
    alphabet with or without padding; the answer always carries ``payloads``."""
    settings: Settings = app.dependency_overrides[get_settings]()
    headers = {"X-Namespace": "ptce"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://api.test") as http:
        http.cookies.set("ptce_agent", _admin_cookie(settings))
        for path in ("/codec/decode", "/codec/encode"):
            for empty in ("{}", '{"payloads": []}', '{"payloads": null}'):
                r = await http.post(path, content=empty, headers=headers)
                assert (r.status_code, r.json()) == (200, {"payloads": []}), (path, empty)

        # A payload as the Go SDK sends it: URL-safe base64 without padding, and the external
        # payload details in their proto field spelling (the JSON spelling is the other one).
        raw = '"Ma\u00eblle ???"'.encode()
        url_safe = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        assert "-" in url_safe or "_" in url_safe  # the alphabets differ on these bytes
        for external in ("external_payloads", "externalPayloads"):
            body = {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg"}, "data": url_safe,
                                  external: []}]}
            sealed = await http.post("/codec/encode", json=body, headers=headers)
            assert sealed.status_code == 200, sealed.text
            opened = await http.post("/codec/decode", json=sealed.json(), headers=headers)
            assert opened.status_code == 200
            [payload] = opened.json()["payloads"]
            assert base64.b64decode(payload["data"]) == raw
            assert base64.b64decode(payload["metadata"]["encoding"]) == b"json/plain"

        # Not Payloads: a clear 400, never a 422 or a 500.
        for bad in ("", "[]", "null", '{"payload": []}', '{"payloads": [{"data": 3}]}',
                    "[" * 100_000, "\xff"):
            r = await http.post("/codec/decode", content=bad, headers=headers)
            assert r.status_code == 400 and r.json()["error"] == "undecodable_payload", bad
