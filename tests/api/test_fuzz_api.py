"""Fuzzing the API from its own OpenAPI schema (schemathesis): no 5xx, whatever is sent.

Every operation is called with cases generated from the schema, signed in as an admin (so the
requests reach the handlers, not only the authentication), against a real Temporal dev server
where the dossiers named by the generated numbers do not exist.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from starlette.responses import Response
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth.roles import Role
from api.auth.session import SESSION_COOKIE, AgentSession, Cookies, Source, new_sid
from api.cli.binaries import temporal_cli
from api.cli.ports import free_port
from core.db.engine import Database, create_engine, create_schema
from core.db.repositories import AgentRoleRepository
from core.settings import AgentPageSettings, Settings
from workflows import search_attributes

pytestmark = pytest.mark.asyncio(loop_scope="session")
BASE = "http://fuzz.test"
CASES_PER_OPERATION = 25
CSRF = "fuzz-csrf"


def _cookie(settings: Settings) -> str:
    response = Response()
    Cookies(settings).write_session(response, AgentSession(sid=new_sid(),
        sub="fuzz-admin", email="fuzz-admin@finances.gouv.fr", name="Fuzz", role=Role.ADMIN,
        source=Source.OIDC, csrf=CSRF))
    return response.headers["set-cookie"].split(";")[0].split("=", 1)[1]


@pytest.fixture
async def own_server() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server of its own: generated dossier numbers must not reach other tests' dossiers
    (a dossier whose worker has gone answers 503, rightly)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()), data_converter=pydantic_data_converter,
        search_attributes=search_attributes.ALL, dev_server_log_level="error", port=free_port())
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
async def signed_in(tmp_path: Path, own_server: WorkflowEnvironment
                    ) -> AsyncIterator[tuple[FastAPI, Settings]]:
    db = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ptce.db'}"))
    await create_schema(db.engine)
    async with db.unit_of_work() as session:
        await AgentRoleRepository(session).put("fuzz-admin", "admin", "test")
    settings = Settings(environment="test", agents=AgentPageSettings(
        session_secret="fuzz-secret"))  # type: ignore[arg-type]
    yield create_app(settings, temporal=own_server.client, db=db), settings
    await db.dispose()


def _cases(app: FastAPI) -> list[Any]:
    schema = schemathesis.openapi.from_dict(app.openapi())
    cases: list[Any] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(operation.as_strategy())
        @settings(max_examples=CASES_PER_OPERATION, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        def collect(case: Any) -> None:
            cases.append(case)

        collect()
    return cases


async def test_no_generated_request_makes_the_api_fail(signed_in: tuple[FastAPI, Settings]
                                                       ) -> None:
    app, settings = signed_in
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = _cases(app)
    assert len({(c.method, c.path) for c in cases}) >= 8  # every operation was exercised
    cookies = {SESSION_COOKIE: _cookie(settings)}
    failures: list[str] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                 base_url=BASE,
                                 cookies=cookies) as http:
        for case in cases:
            kwargs = case.as_transport_kwargs(base_url=BASE)
            headers = {k: v for k, v in kwargs["headers"].items()
                       if k.lower() not in ("connection", "accept-encoding")}
            headers["X-CSRF-Token"] = CSRF
            response = await http.request(
                kwargs["method"], kwargs["url"], headers=headers, params=kwargs.get("params"),
                json=kwargs.get("json"), content=kwargs.get("data") if isinstance(
                    kwargs.get("data"), bytes | str) else None,
                data=kwargs.get("data") if isinstance(kwargs.get("data"), dict) else None)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                f"{response.text[:200]}")
    assert failures == [], "\n".join(failures[:10])
