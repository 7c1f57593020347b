"""The security battery of the personal links: each attack gets its HTTP status, and nothing
changes in the workflow (consultation query) nor in the audit trail's accepted submissions."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus

from api.cra.setup import DEFAULT_DSFR
from core.db.repositories import CraMemberRepository
from tests.api.site import Site
from workflows.payloads import CloseRequest

pytestmark = pytest.mark.asyncio(loop_scope="session")

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
REGION, OTHER_REGION = "76", "75"  # sample 1 consults Occitanie and Nouvelle-Aquitaine
ESS, CRESS = "ess.76@cra.localhost", "cress.76@cra.localhost"


class Case:
    """One dossier consulted in two regions, and what an attacker may hold."""

    def __init__(self, site: Site, http: httpx.AsyncClient, number: int, tokens: dict[str, str]):
        self.site, self.http, self.number, self.tokens = site, http, number, tokens

    async def page(self, token: str) -> httpx.Response:
        return await self.http.get(self.site.url(token))

    async def csrf(self, token: str) -> str:
        match = CSRF.search((await self.page(token)).text)
        assert match, "form without CSRF field"
        return match.group(1)

    async def post(self, token: str, csrf: str | None = None, **fields: Any) -> httpx.Response:
        data = {"opinion": "favourable", "motivation": "Projet solide et bien ancré.",
                "no_conflict_of_interest": "oui", **fields}
        if csrf is not None:
            data["csrf_token"] = csrf
        return await self.http.post(self.site.url(token), data=data)

    async def snapshot(self, region: str = REGION) -> tuple[dict[str, Any], int]:
        state = (await self.site.state(self.number, region)).model_dump(mode="json")
        accepted = await self.site.audit(dossier_number=self.number, outcome="accepted")
        return state, len(accepted)


@pytest.fixture(scope="module")
async def case(site: Site) -> AsyncIterator[Case]:
    number = await site.start(1)
    tokens = await site.tokens(number, expected=4)
    async with httpx.AsyncClient(timeout=20) as http:
        yield Case(site, http, number, tokens)


def _tamper_payload(token: str, **changes: Any) -> str:
    version, kid, payload, signature = token.split(".")
    assert version == "v2"
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body = json.dumps({**claims, **changes}, sort_keys=True, separators=(",", ":")).encode()
    forged = base64.urlsafe_b64encode(body).decode().rstrip("=")
    return f"{version}.{kid}.{forged}.{signature}"


async def _refused(case: Case, token: str, status: int, marker: str) -> None:
    """GET and POST (with the genuine link's CSRF value) both refused; nothing changed."""
    before = await case.snapshot()
    genuine_csrf = await case.csrf(case.tokens[ESS])
    get = await case.page(token)
    post = await case.post(token, genuine_csrf, motivation="Tentative.")
    assert (get.status_code, post.status_code) == (status, status)
    assert marker in get.text and marker in post.text
    assert "Tentative" not in post.text
    assert await case.snapshot() == before


async def test_the_genuine_link_shows_the_dossier_and_the_form(case: Case) -> None:
    response = await case.page(case.tokens[ESS])
    assert response.status_code == 200
    assert "Coopérative des vallées pyrénéennes" in response.text
    assert 'name="csrf_token"' in response.text
    assert response.headers["referrer-policy"] == "same-origin"
    assert "script-src" not in response.headers["content-security-policy"]  # default-src 'none'
    if (DEFAULT_DSFR / "dsfr.min.css").is_file():
        assert "/static/dsfr/dsfr.min.css" in response.text
        css = await case.http.get(f"{case.site.base_url}/static/dsfr/dsfr.min.css")
        assert css.status_code == 200


async def test_altered_signature(case: Case) -> None:
    token = case.tokens[ESS]
    # Flip a character in the middle of the signature: the last base64 character may only
    # carry padding bits, and changing those leaves the signature valid.
    at = len(token) - 10
    flipped = token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1:]
    await _refused(case, flipped, 404, "Lien invalide")


async def test_altered_payload(case: Case) -> None:
    await _refused(case, _tamper_payload(case.tokens[ESS], member="cra-76-cress"), 404,
                   "Lien invalide")


async def test_unknown_key_id(case: Case) -> None:
    version, _, rest = case.tokens[ESS].split(".", 2)
    await _refused(case, f"{version}.k9.{rest}", 404, "Lien invalide")


async def test_wrong_purpose(case: Case) -> None:
    token = case.site.mint(case.number, REGION, "cra-76-ess", purpose="decision_notice")
    await _refused(case, token, 404, "Lien invalide")


async def test_expired(case: Case) -> None:
    token = case.site.mint(case.number, REGION, "cra-76-ess", deadline_in=-timedelta(days=20))
    await _refused(case, token, 410, "Ce lien a expiré")


async def test_token_of_another_region_or_dossier(case: Case) -> None:
    # A member of Occitanie on the Nouvelle-Aquitaine consultation of the same dossier.
    await _refused(case, case.site.mint(case.number, OTHER_REGION, "cra-76-ess"), 404,
                   "Lien invalide")
    # A Bretagne member on a dossier that does not consult Bretagne.
    await _refused(case, case.site.mint(case.number, "53", "cra-53-ess"), 404, "Lien invalide")
    # A member of the right region, but not of the pair consulted on this dossier.
    async with case.site.stack.res.db.unit_of_work() as session:
        await CraMemberRepository(session).upsert({
            "id": "cra-76-newcomer", "region": REGION, "name": "Nouvelle venue",
            "email": "new.76@cra.localhost", "role": "Correspondante ESS"})
    try:
        await _refused(case, case.site.mint(case.number, REGION, "cra-76-newcomer"), 404,
                       "Lien invalide")
    finally:
        await case.site.set_active("cra-76-newcomer", False)
    outcomes = {r.outcome for r in await case.site.audit(dossier_number=case.number)}
    assert {"revoked", "unknown_consultation", "not_member"} <= outcomes


async def test_revoked_member(case: Case) -> None:
    token = case.tokens[CRESS]
    csrf = await case.csrf(token)
    await case.site.set_active("cra-76-cress", False)
    try:
        before = await case.snapshot()
        get, post = await case.page(token), await case.post(token, csrf)
        assert (get.status_code, post.status_code) == (404, 404)
        assert "Lien invalide" in post.text
        assert await case.snapshot() == before
    finally:
        await case.site.set_active("cra-76-cress", True)
    assert (await case.page(token)).status_code == 200


async def test_post_without_or_with_a_foreign_csrf_token(case: Case) -> None:
    token = case.tokens[ESS]
    before = await case.snapshot()
    foreign = await case.csrf(case.tokens[CRESS])
    own = await case.csrf(token)
    assert (await case.post(token)).status_code == 403
    assert (await case.post(token, foreign)).status_code == 403
    assert (await case.post(token, own + "x")).status_code == 403
    cross_site = await case.http.post(case.site.url(token), headers={"Origin": "https://evil.example"},
                                      data={"csrf_token": own, "opinion": "favourable",
                                            "motivation": "x", "no_conflict_of_interest": "oui"})
    assert cross_site.status_code == 403
    assert "Formulaire non vérifié" in cross_site.text
    assert await case.snapshot() == before
    assert len(await case.site.audit(dossier_number=case.number, outcome="csrf_refused")) >= 4


async def test_oversized_fields(case: Case) -> None:
    token = case.tokens[ESS]
    csrf = await case.csrf(token)
    before = await case.snapshot()
    too_long = await case.post(token, csrf, motivation="a" * 10_001)
    assert too_long.status_code == 422
    assert "ne doit pas dépasser 10\u202f000 caractères" in too_long.text
    huge = await case.post(token, csrf, motivation="a" * 300_000)
    assert huge.status_code == 413
    assert await case.snapshot() == before


async def test_missing_fields_are_reported_next_to_them(case: Case) -> None:
    token = case.tokens[ESS]
    before = await case.snapshot()
    response = await case.http.post(case.site.url(token), data={
        "csrf_token": await case.csrf(token), "motivation": "  "})
    assert response.status_code == 422
    for message in ("Choisissez l’avis de la CRA.", "Saisissez la motivation de l’avis.",
                    "Cochez la déclaration d’absence de conflit d’intérêts"):
        assert message in response.text
    assert 'aria-describedby="motivation-hint motivation-error"' in response.text
    assert await case.snapshot() == before


async def test_html_in_fields_is_escaped_and_a_double_submit_records_one_opinion(case: Case) -> None:
    token = case.tokens[ESS]
    csrf = await case.csrf(token)
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)> & <b>gras</b>'
    first, second = await asyncio.gather(case.post(token, csrf, motivation=payload),
                                         case.post(token, csrf, motivation=payload))
    assert (first.status_code, second.status_code) == (303, 303)
    again = await case.post(token, csrf, motivation=payload)  # a later resubmission
    assert again.status_code == 303
    state = await case.site.state(case.number, REGION)
    assert state.opinion is not None and state.opinion.motivation == payload
    assert state.opinion.amended_by == []  # one opinion, never amended by the repeats
    page = (await case.page(token)).text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    confirmation = await case.http.get(case.site.url(token, "/confirmation"))
    assert confirmation.status_code == 200 and "Avis enregistré" in confirmation.text


async def test_replay_after_the_close(case: Case) -> None:
    token = case.tokens["ess.75@cra.localhost"]
    csrf = await case.csrf(token)
    assert (await case.post(token, csrf, motivation="Premier avis.")).status_code == 303
    handle = case.site.consultation(case.number, OTHER_REGION)
    await handle.signal("close", CloseRequest())
    for _ in range(100):
        if (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED:
            break
        await asyncio.sleep(0.1)
    before = await case.snapshot(OTHER_REGION)
    replay = await case.post(token, csrf, motivation="Rejoué après la clôture.")
    assert replay.status_code == 409
    assert "Votre avis n’a pas été enregistré" in replay.text
    assert "Premier avis." in replay.text
    assert await case.snapshot(OTHER_REGION) == before
    view = await case.page(token)
    assert view.status_code == 200 and "Consultation close" in view.text
    assert "<form" not in view.text


async def test_tokens_never_reach_the_audit_trail(case: Case) -> None:
    # Its own visits, a genuine one and a forged one: the tests of the module may run on other
    # processes (pytest-xdist), each with its own site.
    assert (await case.page(case.tokens[ESS])).status_code == 200
    assert (await case.page(_tamper_payload(case.tokens[ESS], member="x"))).status_code == 404
    rows = await case.site.audit(dossier_number=case.number)
    assert rows
    tokens = set(case.tokens.values())
    for row in rows:
        assert row.token_fingerprint not in tokens and len(row.token_fingerprint) == 16
        assert "127.0.0.1" not in row.client_hash
