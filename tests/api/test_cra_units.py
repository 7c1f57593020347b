"""The parts of the answer pages that need no Temporal: links, limits, CSRF, logs, rendering."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from api.app import create_app
from api.cra.form import OpinionForm, unchanged
from api.cra.guard import FormGuard
from api.cra.ratelimit import SlidingWindow
from api.cra.redaction import RedactLinkTokens
from core.db.engine import Database, create_engine, create_schema
from core.db.repositories import CraLinkAccessRepository
from core.domain.cra import RecordedOpinion
from core.domain.procedure import Opinion
from core.links import ExpiredLink, InvalidLink, LinkSigner
from core.settings import CraPageSettings, LinkSettings, Settings

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _signer(*keys: str, grace_days: int = 14) -> LinkSigner:
    return LinkSigner.from_settings(LinkSettings(keys=[SecretStr(k) for k in keys],
                                                 read_grace_days=grace_days))


def test_links_answer_until_the_deadline_and_read_during_the_grace() -> None:
    signer = _signer("k1:secret-one")
    claims = signer.claims_for(dossier=7, region="53", member="cra-53-ess", round=1, deadline=NOW)
    token = signer.sign(claims)
    read = signer.verify(token, now=NOW + timedelta(days=13))
    assert read.answer_deadline == NOW and read.exp == NOW + timedelta(days=14)
    with pytest.raises(ExpiredLink):
        signer.verify(token, now=NOW + timedelta(days=14))
    with pytest.raises(InvalidLink):
        signer.verify(token, now=NOW, purpose="decision_notice")


def test_keys_rotate_without_breaking_links_in_flight() -> None:
    old = _signer("k1:secret-one")
    token = old.sign(old.claims_for(dossier=7, region="53", member="m", round=1, deadline=NOW))
    rotated = _signer("k2:secret-two", "k1:secret-one")
    assert rotated.verify(token, now=NOW).member == "m"
    assert rotated.sign(rotated.verify(token, now=NOW)).startswith("k2.")
    with pytest.raises(InvalidLink):
        _signer("k2:secret-two").verify(token, now=NOW)


def test_sliding_window() -> None:
    now = [0.0]
    window = SlidingWindow(limit=2, window=10, clock=lambda: now[0])
    assert [window.hit("a"), window.hit("a"), window.hit("b")] == [0, 0, 0]
    assert window.hit("a") == 10
    now[0] = 9.5
    assert window.hit("a") == 1
    now[0] = 10.0
    assert window.hit("a") == 0


def test_csrf_is_bound_to_the_link_and_origins_are_checked() -> None:
    guard = FormGuard(SecretStr("s"))
    assert guard.csrf_ok("token-a", guard.csrf_token("token-a"))
    assert not guard.csrf_ok("token-b", guard.csrf_token("token-a"))
    assert not guard.csrf_ok("token-a", "")
    allowed = ["https://ptce.example.gouv.fr", "http://127.0.0.1:8000/"]
    assert guard.same_origin(None, None, allowed)
    assert guard.same_origin("https://ptce.example.gouv.fr:443", None, allowed)
    assert guard.same_origin(None, "http://127.0.0.1:8000/cra/avis/x", allowed)
    assert not guard.same_origin("null", None, allowed)
    assert not guard.same_origin("https://evil.example", "https://ptce.example.gouv.fr/", allowed)
    assert guard.client_hash("10.0.0.1") != guard.client_hash("10.0.0.2")


def test_access_logs_never_carry_a_whole_token() -> None:
    token = "k1.eyJkb3NzaWVyIjoxfQ.c2lnbmF0dXJl"
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", f"/cra/avis/{token}/confirmation", "1.1", 200),
                               None)
    RedactLinkTokens().filter(record)
    message = record.getMessage()
    assert token not in message and "/cra/avis/k1.eyJ…/confirmation" in message


def test_form_messages_are_french_and_per_field() -> None:
    submission, errors = OpinionForm(opinion="maybe", motivation=" ").validate("m")
    assert submission is None
    assert list(errors) == ["opinion", "motivation", "no_conflict_of_interest"]
    ok, none = OpinionForm(opinion="unfavourable", motivation=" Non. ", criteria_assessment="  ",
                           no_conflict_of_interest=True).validate("m")
    assert none == {} and ok is not None
    assert (ok.motivation, ok.criteria_assessment) == ("Non.", None)


def test_the_appreciations_are_optional_and_checked() -> None:
    """One per group of selection criteria, from the list; none at all is fine."""
    form = OpinionForm.parse(b"opinion=favourable&motivation=Oui&no_conflict_of_interest=oui"
                             b"&appreciation_vision=very_good&appreciation_operations="
                             b"&appreciation_results=fair&csrf_token=t")
    submission, errors = form.validate("m")
    assert errors == {} and submission is not None
    assert {g.value: a.value for g, a in submission.appreciations.items()} == {
        "vision": "very_good", "results": "fair"}
    assert unchanged(submission, RecordedOpinion(
        opinion=Opinion.FAVOURABLE, motivation="Oui", written_by="m", written_at=datetime.now(UTC),
        appreciations=submission.appreciations))
    assert OpinionForm.prefilled(RecordedOpinion(
        opinion=Opinion.FAVOURABLE, motivation="Oui", written_by="m",
        written_at=datetime.now(UTC))).appreciations == {}  # an opinion from before: none
    refused, errors = OpinionForm(opinion="favourable", motivation="Oui",
                                  appreciations={"vision": "parfait"},
                                  no_conflict_of_interest=True).validate("m")
    assert refused is None
    assert errors == {"appreciations": "Choisissez chaque appréciation dans la liste proposée."}


@pytest.fixture
async def offline_app(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Database]]:
    """The app without Temporal nor DSFR: enough for refusals, limits and unstyled pages."""
    db = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ptce.db'}"))
    await create_schema(db.engine)
    settings = Settings(environment="test", var_dir=tmp_path, cra_pages=CraPageSettings(
        rate_limit_per_token=2, rate_limit_per_client=4, dsfr_dist=tmp_path / "absent"))
    app = create_app(settings, temporal=SimpleNamespace(), db=db)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cra.test") as http:
        yield http, db
    await db.dispose()


async def test_pages_render_unstyled_without_dsfr(offline_app: Any) -> None:
    http, db = offline_app
    response = await http.get("/cra/avis/k1.nothing.here")
    assert response.status_code == 404 and "Lien invalide" in response.text
    assert "/static/dsfr/" not in response.text and "/static/cra/cra.css" in response.text
    assert (await http.get("/static/cra/cra.css")).status_code == 200
    async with db.unit_of_work() as session:
        [row] = await CraLinkAccessRepository(session).list_for()
    assert (row.action, row.outcome, row.member_id) == ("view", "invalid_link", None)


async def test_rate_limits_per_link_and_per_client(offline_app: Any) -> None:
    http, _ = offline_app
    statuses = [(await http.get("/cra/avis/k1.same")).status_code for _ in range(3)]
    assert statuses == [404, 404, 429]
    statuses = [(await http.get(f"/cra/avis/k1.other{i}")).status_code for i in range(2)]
    assert statuses == [404, 429]  # the client's 4 requests per window are spent
    limited = await http.get("/cra/avis/k1.again")
    assert limited.status_code == 429 and "Trop de requêtes" in limited.text
    assert int(limited.headers["retry-after"]) >= 1
