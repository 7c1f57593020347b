"""Sign-in by OpenID Connect against a real provider implementation (``oidc-provider-mock``):
the code flow ends with a session and the role from the table, with ProConnect's claims; an
unverified email, a wrong ``azp``, several audiences, an expired or ``exp``-less ID token, a
wrong nonce, a tampered or foreign-signed token, a replayed state, an account without a role
are refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from api.app import create_app
from api.auth.oidc import OidcClient
from core.db.engine import Database, create_engine, create_schema
from core.db.repositories import AgentRoleRepository
from core.settings import AgentPageSettings, OidcSettings, Settings
from tests.api.oidc_support import (
    BASE,
    CLIENT_ID,
    CLIENT_SECRET,
    PROCONNECT_SCOPES,
    Browser,
    SelfSigned,
    TamperingTransport,
    proconnect_claims,
    replace_query,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")
ALICE = "alice.martin@finances.gouv.fr"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ptce.db'}"))
    await create_schema(database.engine)
    yield database
    await database.dispose()


def _settings(issuer: str, **oidc: object) -> Settings:
    settings = Settings(environment="test", agents=AgentPageSettings(
        session_secret="test-session-secret",  # type: ignore[arg-type]
        bootstrap_admins=["chef.bureau@finances.gouv.fr"],
        oidc=OidcSettings(issuer=issuer, client_id=CLIENT_ID, scopes=PROCONNECT_SCOPES,
                          client_secret=CLIENT_SECRET, **oidc)))  # type: ignore[arg-type]
    settings.api.public_base_url = BASE
    return settings


async def _browser(settings: Settings, db: Database, issuer: str,
                   transport: httpx.AsyncBaseTransport | None = None
                   ) -> AsyncIterator[Browser]:
    app = create_app(settings, db=db)
    if transport is not None:
        app.state.auth.oidc = OidcClient(settings, transport=transport)
    async with (httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client,
                httpx.AsyncClient() as provider):
        yield Browser(client, provider, issuer)


@pytest.fixture
async def browser(issuer: str, db: Database) -> AsyncIterator[Browser]:
    async for b in _browser(_settings(issuer), db, issuer):
        yield b


async def grant(db: Database, principal: str, role: str) -> None:
    async with db.unit_of_work() as session:
        await AgentRoleRepository(session).put(principal, role, "test")


async def _refused(browser: Browser, response: httpx.Response) -> None:
    assert response.status_code == 403 and "Connexion impossible" in response.text, response.text
    assert "ptce_agent=" not in response.headers.get("set-cookie", "")
    assert (await browser.app.get("/api/session")).status_code == 401


async def test_the_code_flow_with_proconnect_claims_ends_with_a_session_and_the_table_role(
        browser: Browser, db: Database) -> None:
    await grant(db, ALICE, "admin")  # by email, case-insensitive
    sub = await browser.user(**proconnect_claims("Alice.Martin@finances.gouv.fr"))
    done = await browser.sign_in(sub)
    assert done.status_code == 303 and done.headers["location"] == "/agents/dossiers/7"
    cookie = done.headers["set-cookie"]
    assert "ptce_agent=" in cookie and "HttpOnly" in cookie and "Secure" not in cookie
    me = (await browser.app.get("/api/session")).json()
    assert (me["id"], me["name"], me["role"]) == (sub, "Alice Martin", "admin")
    assert (await browser.app.get("/api/admin/agents")).status_code == 200
    # An admin removes the role: it takes effect at once, on the same session.
    async with db.unit_of_work() as session:
        assert await AgentRoleRepository(session).remove(ALICE)
    assert (await browser.app.get("/api/session")).status_code == 403


async def test_a_role_given_to_the_subject_wins(browser: Browser, db: Database) -> None:
    sub = await browser.user(**proconnect_claims(ALICE))
    await grant(db, sub, "agent")
    assert (await browser.sign_in(sub)).status_code == 303
    assert (await browser.app.get("/api/session")).json()["role"] == "agent"
    assert (await browser.app.get("/api/admin/agents")).status_code == 403


async def test_an_unverified_email_is_refused_even_for_a_bootstrap_admin(browser: Browser) -> None:
    sub = await browser.user(**proconnect_claims("chef.bureau@finances.gouv.fr",
                                                 email_verified=False))
    await _refused(browser, await browser.sign_in(sub))


async def test_an_email_without_email_verified_is_trusted_only_when_the_provider_vouches(
        issuer: str, db: Database) -> None:
    claims = proconnect_claims("chef.bureau@finances.gouv.fr")
    del claims["email_verified"]
    async for browser in _browser(_settings(issuer), db, issuer):
        await _refused(browser, await browser.sign_in(await browser.user(**claims)))
    async for browser in _browser(_settings(issuer, email_verified_by_provider=True), db, issuer):
        assert (await browser.sign_in(await browser.user(**claims))).status_code == 303
        assert (await browser.app.get("/api/session")).json()["role"] == "admin"


@pytest.mark.parametrize("bad", [
    {"azp": "someone-else"},  # issued to another client
    {"aud": [CLIENT_ID, "another-client"]},  # several audiences and no azp
    {"aud": "another-client"},
    {"exp": 1_000_000},  # expired in 1970
    {"exp": None},
    {"iss": "https://elsewhere.example"},
], ids=["azp", "several-audiences", "audience", "expired", "exp-null", "issuer"])
async def test_an_id_token_with_a_bad_claim_is_refused(browser: Browser, db: Database,
                                                       bad: dict[str, object]) -> None:
    sub = await browser.user(**proconnect_claims(ALICE), **bad)
    await grant(db, sub, "admin")
    await _refused(browser, await browser.sign_in(sub))


async def test_a_wrong_nonce_is_refused(browser: Browser, db: Database) -> None:
    sub = await browser.user(**proconnect_claims(ALICE))
    await grant(db, sub, "admin")
    authorize = replace_query(await browser.start(), nonce="injected-by-an-attacker")
    await _refused(browser, await browser.app.get(await browser.consent(authorize, sub)))


@pytest.mark.parametrize("changes", [{"sub": "agent-admin"}, {"exp": 4_000_000_000}],
                         ids=["subject", "expiry"])
async def test_an_id_token_altered_after_signing_is_refused(
        issuer: str, db: Database, changes: dict[str, object]) -> None:
    await grant(db, "agent-admin", "admin")
    async for browser in _browser(_settings(issuer), db, issuer, TamperingTransport(**changes)):
        sub = await browser.user(**proconnect_claims(ALICE))
        await grant(db, sub, "admin")
        await _refused(browser, await browser.sign_in(sub))


async def _self_signed_sign_in(db: Database, provider: SelfSigned) -> httpx.Response:
    """The real provider cannot leave ``exp`` out nor sign with a foreign key: this one does."""
    await grant(db, "agent-self", "admin")
    async for browser in _browser(_settings(provider.issuer), db, provider.issuer,
                                  httpx.MockTransport(provider.handler)):
        authorize = urlsplit(await browser.start())
        query = {k: v[0] for k, v in parse_qs(authorize.query).items()}
        provider.nonce = query["nonce"]
        response = await browser.app.get("/connexion/retour", params={
            "code": "c0de", "state": query["state"]})
        if response.status_code != 303:
            await _refused(browser, response)
        return response
    raise AssertionError("unreachable")


async def test_a_self_signed_token_with_every_claim_is_accepted(db: Database) -> None:
    assert (await _self_signed_sign_in(db, SelfSigned())).status_code == 303


@pytest.mark.parametrize("missing", ["exp", "iat", "nonce", "aud"])
async def test_an_id_token_missing_a_required_claim_is_refused(db: Database, missing: str) -> None:
    provider = SelfSigned()
    provider.drop = {missing}
    assert (await _self_signed_sign_in(db, provider)).status_code == 403


async def test_an_id_token_signed_by_a_key_outside_the_jwks_is_refused(db: Database) -> None:
    from joserfc.jwk import RSAKey

    provider = SelfSigned()
    provider.signing_key = RSAKey.generate_key(2048, parameters={"kid": "s1"})
    assert (await _self_signed_sign_in(db, provider)).status_code == 403


async def test_an_account_without_a_role_is_refused(browser: Browser) -> None:
    refused = await browser.sign_in(await browser.user(**proconnect_claims("nobody@example.org")))
    assert refused.status_code == 403 and "Accès non autorisé" in refused.text
    assert (await browser.app.get("/api/session")).status_code == 401


async def test_a_callback_without_the_sign_in_cookie_or_with_another_state_is_refused(
        browser: Browser, db: Database) -> None:
    sub = await browser.user(**proconnect_claims(ALICE))
    await grant(db, sub, "agent")
    path = await browser.consent(await browser.start(), sub)
    assert (await browser.app.get(path.replace("state=", "state=x"))).status_code == 403
    cookies = dict(browser.app.cookies)
    browser.app.cookies.clear()  # the code arriving in another browser (login CSRF)
    assert (await browser.app.get(path)).status_code == 403
    # Refused before the code was used: in the right browser, the same code still signs in.
    browser.app.cookies.update(cookies)
    assert (await browser.app.get(path)).status_code == 303


async def test_the_dev_sign_in_is_refused_outside_dev(browser: Browser) -> None:
    page = await browser.app.get("/connexion")
    assert "Connexion de développement" not in page.text and "ProConnect" in page.text
    refused = await browser.app.post("/connexion/dev", data={
        "name": "Mallory", "email": "m@example.org", "role": "admin"})
    assert refused.status_code == 403
    assert (await browser.app.get("/api/session")).status_code == 401
