"""Sign-in by OpenID Connect against a local provider made here (keys generated on the fly):
the whole code flow ends with a session and the role from the table; a tampered ID token, a
wrong nonce, a replayed state or an account without a role are refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from core.db.engine import Database, create_engine, create_schema
from core.db.repositories import AgentRoleRepository
from core.settings import AgentPageSettings, OidcSettings, Settings
from tests.api.issuer import CLIENT_ID, CLIENT_SECRET, LocalIssuer

pytestmark = pytest.mark.asyncio(loop_scope="session")
BASE = "http://agents.test"


class Browser:
    """The app in-process, the provider over real HTTP: redirects followed by hand."""

    def __init__(self, app_client: httpx.AsyncClient, provider: httpx.AsyncClient) -> None:
        self.app, self.provider = app_client, provider

    async def sign_in(self) -> httpx.Response:
        start = await self.app.get("/connexion/oidc", params={"suivant": "/agents/dossiers/7"})
        assert start.status_code == 302, start.text
        authorize = await self.provider.get(start.headers["location"])
        assert authorize.status_code == 302
        callback = authorize.headers["location"]
        assert callback.startswith(f"{BASE}/connexion/retour?")
        return await self.app.get(callback.removeprefix(BASE))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ptce.db'}"))
    await create_schema(database.engine)
    yield database
    await database.dispose()


@pytest.fixture
async def browser(issuer: LocalIssuer, db: Database) -> AsyncIterator[Browser]:
    issuer.tamper = None
    issuer.user = {"sub": "sub-alice", "email": "Alice.Martin@finances.gouv.fr",
                   "given_name": "Alice", "usual_name": "Martin"}
    settings = Settings(environment="test", agents=AgentPageSettings(
        session_secret="test-session-secret",  # type: ignore[arg-type]
        oidc=OidcSettings(issuer=issuer.url, client_id=CLIENT_ID,
                          client_secret=CLIENT_SECRET)))  # type: ignore[arg-type]
    settings.api.public_base_url = BASE
    app = create_app(settings, db=db)
    async with (httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client,
                httpx.AsyncClient() as provider):
        yield Browser(client, provider)


async def grant(db: Database, principal: str, role: str) -> None:
    async with db.unit_of_work() as session:
        await AgentRoleRepository(session).put(principal, role, "test")


async def test_the_code_flow_ends_with_a_session_and_the_role_from_the_table(
        browser: Browser, db: Database) -> None:
    await grant(db, "alice.martin@finances.gouv.fr", "admin")  # by email, case-insensitive
    done = await browser.sign_in()
    assert done.status_code == 303 and done.headers["location"] == "/agents/dossiers/7"
    cookie = done.headers["set-cookie"]
    assert "ptce_agent=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace(
        "Lax", "lax")
    assert "Secure" not in cookie  # the public URL is http here
    me = (await browser.app.get("/api/session")).json()
    assert (me["id"], me["name"], me["role"]) == ("sub-alice", "Alice Martin", "admin")
    assert (await browser.app.get("/api/admin/agents")).status_code == 200

    # An admin removes the role: it takes effect at once, on the same session.
    async with db.unit_of_work() as session:
        assert await AgentRoleRepository(session).remove("alice.martin@finances.gouv.fr")
    assert (await browser.app.get("/api/session")).status_code == 403


async def test_a_role_given_to_the_subject_wins(browser: Browser, db: Database) -> None:
    await grant(db, "sub-alice", "agent")
    assert (await browser.sign_in()).status_code == 303
    assert (await browser.app.get("/api/session")).json()["role"] == "agent"
    assert (await browser.app.get("/api/admin/agents")).status_code == 403


@pytest.mark.parametrize("tamper", ["payload", "foreign_key", "nonce"])
async def test_a_forged_id_token_or_a_wrong_nonce_is_refused(
        browser: Browser, db: Database, issuer: LocalIssuer, tamper: str) -> None:
    await grant(db, "sub-alice", "admin")
    await grant(db, "sub-admin", "admin")
    issuer.tamper = tamper
    refused = await browser.sign_in()
    assert refused.status_code == 403 and "Connexion impossible" in refused.text
    assert "ptce_agent=" not in refused.headers.get("set-cookie", "")
    assert (await browser.app.get("/api/session")).status_code == 401


async def test_an_account_without_a_role_is_refused(browser: Browser) -> None:
    refused = await browser.sign_in()
    assert refused.status_code == 403 and "Accès non autorisé" in refused.text
    assert (await browser.app.get("/api/session")).status_code == 401


async def test_a_callback_without_the_sign_in_cookie_or_with_another_state_is_refused(
        browser: Browser, db: Database, issuer: LocalIssuer) -> None:
    await grant(db, "sub-alice", "agent")
    start = await browser.app.get("/connexion/oidc")
    callback = (await browser.provider.get(start.headers["location"])).headers["location"]
    path = callback.removeprefix(BASE)
    exchanged = issuer.token_requests
    assert (await browser.app.get(path.replace("state=", "state=x"))).status_code == 403
    browser.app.cookies.clear()  # the code arriving in another browser (login CSRF)
    assert (await browser.app.get(path)).status_code == 403
    assert issuer.token_requests == exchanged  # refused before the code was ever used


async def test_the_dev_sign_in_is_refused_outside_dev(browser: Browser) -> None:
    page = await browser.app.get("/connexion")
    assert "Connexion de développement" not in page.text and "ProConnect" in page.text
    refused = await browser.app.post("/connexion/dev", data={
        "name": "Mallory", "email": "m@example.org", "role": "admin"})
    assert refused.status_code == 403
    assert (await browser.app.get("/api/session")).status_code == 401
