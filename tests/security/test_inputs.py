"""What applicants and link holders send: the referent's email is one address or a French
correction request (never a relay to anyone, never a blocked dossier), links only in their
canonical signed form (legacy links until their expiry), applicant text inert in the Temporal UI."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeSerializer
from markdown_it import MarkdownIt
from pydantic import SecretStr, ValidationError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.mail.activities import MailActivities
from activities.mail.models import EmailRequest
from api.cli.demo import sample
from core.domain.admin import ReferentCorrection
from core.domain.dossier import Dossier, PlatformState
from core.domain.policy import LengthBudgets
from core.domain.procedure import Agent, Stage
from core.links import ExpiredLink, InvalidLink, LinkClaims, LinkSigner
from core.rules.completeness import IssueKind, check_completeness
from core.summaries import dossier_details, dossier_summary
from tests.support import Stack
from tests.workflows.helpers import start_dossier, wait_for_stage

SEVERAL = ["a@exemple.fr, b@autre.fr", "a@exemple.fr;b@autre.fr", "a@exemple.fr b@autre.fr",
           "Nom <a@exemple.fr>", "a@exemple.fr\r\nBcc: espion@autre.fr", "a@exemple.fr\n",
           "pas-une-adresse", "a@@exemple.fr"]


def _dossier(referent_email: str | None) -> Dossier:
    _, fields = sample(0)
    return Dossier.model_validate({
        "number": 1, "demarche": 1001, "platform_id": "RG9zc2llci0x",
        "platform_state": PlatformState.EN_CONSTRUCTION, "updated_at": datetime.now(UTC),
        "applicant_email": "compte.plateforme@exemple.fr", "project_name": fields["project_name"],
        "referent": {"last_name": "Le Goff", "first_name": "Maëlle", "role": "Coordinatrice",
                     "email": referent_email, "phone": "06 12 34 56 78"}})


@pytest.mark.parametrize("email", SEVERAL)
def test_a_referent_email_that_is_not_one_address_asks_for_a_correction(email: str) -> None:
    report = check_completeness(_dossier(email), LengthBudgets())
    [issue] = [i for i in report.issues if i.field == "referent.email"]
    assert issue.kind is IssueKind.INVALID
    assert issue.sentence() == (
        "Mail de la personne référente : doit contenir une seule adresse électronique valide, "
        "sans espace, virgule ni retour à la ligne (par exemple prenom.nom@structure.fr)")
    # Nobody but the platform account is written to meanwhile.
    assert _dossier(email).contact_emails == ["compte.plateforme@exemple.fr"]
    # Executions that checked their dossier before the rule keep their old verdict.
    old = check_completeness(_dossier(email), LengthBudgets(), referent_email=False)
    assert not [i for i in old.issues if i.field == "referent.email"]


def test_one_address_passes_and_a_blank_one_is_only_missing() -> None:
    ok = check_completeness(_dossier("maelle.legoff@exemple.fr"), LengthBudgets())
    assert not [i for i in ok.issues if i.field == "referent.email"]
    [blank] = [i for i in check_completeness(_dossier("  "), LengthBudgets()).issues
               if i.field == "referent.email"]
    assert blank.kind is IssueKind.MISSING


@pytest.mark.parametrize("email", SEVERAL[:5])
def test_an_admin_cannot_correct_the_referent_to_several_addresses(email: str) -> None:
    with pytest.raises(ValidationError, match="une seule adresse"):
        ReferentCorrection(agent=Agent(id="a", name="A"), reason="erreur", referent_email=email)


async def test_the_mail_activity_never_writes_to_what_is_not_one_address(dev_stack: Stack) -> None:
    mail = MailActivities(dev_stack.settings.smtp, dev_stack.res.db,
                          LinkSigner([SecretStr("k1:" + "s" * 40)]), "http://127.0.0.1:8000")
    env = ActivityEnvironment()
    sent = await env.run(mail.send_email, EmailRequest(
        key="inputs-1", template="acknowledgement", dossier_number=1,
        to=["a@exemple.fr, b@autre.fr", "x@exemple.fr\r\nBcc: espion@autre.fr",
            "ok.inputs@exemple.fr"], context={"number": 1, "project": "P", "structure": "S"}))
    assert not sent.already_sent
    [message] = await dev_stack.emails(to="ok.inputs@exemple.fr")
    assert message["to"] == ["ok.inputs@exemple.fr"]
    for other in ("a@exemple.fr", "b@autre.fr", "espion@autre.fr", "x@exemple.fr"):
        assert await dev_stack.emails(to=other) == []
    with pytest.raises(ApplicationError) as refused:
        await env.run(mail.send_email, EmailRequest(
            key="inputs-2", template="acknowledgement", to=["a@exemple.fr, b@autre.fr"],
            context={"number": 1, "project": "P", "structure": "S"}))
    assert refused.value.type == "NoRecipient" and "@" not in refused.value.message


@pytest.mark.parametrize("email", ["a.multi@exemple.fr, b.multi@autre.fr",
                                   "a.crlf@exemple.fr\r\nBcc: b.crlf@autre.fr"])
async def test_a_dossier_with_such_a_referent_email_gets_a_french_correction_request(
        dev_env: WorkflowEnvironment, dev_stack: Stack, email: str) -> None:
    _, fields = sample(0)
    account = f"compte.{abs(hash(email)) % 10_000}@exemple.fr"
    r = await dev_stack.platform.post("/_standin/dossiers", json={
        "usager_email": account, "fields": {**fields, "referent_email": email}})
    r.raise_for_status()
    number = int(r.json()["number"])
    async with dev_stack.worker(dev_env.client) as worker:
        handle = await start_dossier(dev_env.client, number, worker.task_queue)
        status = await wait_for_stage(handle, Stage.AWAITING_CORRECTION)  # not blocked
        for _ in range(200):  # the request leaves once the stage is entered
            messages = [m for m in (await dev_stack.dossier(number))["messages"]
                        if "incomplet" in m["body"]]
            if messages:
                break
            await asyncio.sleep(0.05)
    assert [i.field for i in status.completeness.issues] == ["referent.email"]  # type: ignore[union-attr]
    # The correction request goes through the platform, to the applicant's account (the
    # platform sends its own email: one channel), in French, naming what to correct.
    [request] = messages
    assert "Mail de la personne référente : doit contenir une seule adresse électronique" in (
        request["body"])
    for address in ("a.multi@exemple.fr", "b.multi@autre.fr", "a.crlf@exemple.fr",
                    "b.crlf@autre.fr"):
        assert await dev_stack.emails(to=address) == []


NOW = datetime(2026, 12, 1, tzinfo=UTC)
SECRET = "s" * 40


def _legacy(claims: LinkClaims, kid: str = "k1", secret: str = SECRET) -> str:
    """A link as the service signed them before HMAC-SHA256 (itsdangerous, HMAC-SHA1)."""
    body = URLSafeSerializer(secret, salt="ptce.cra-link.v1").dumps(claims.model_dump(mode="json"))
    return f"{kid}.{body}"


def test_links_sent_before_the_new_signature_work_until_their_own_expiry() -> None:
    signer = LinkSigner([SecretStr(f"k1:{SECRET}")], timedelta(days=14))
    claims = signer.claims_for(dossier=7, region="53", member="cra-53-ess", round=1,
                               deadline=NOW + timedelta(days=3))
    legacy = _legacy(claims)
    assert signer.verify(legacy, now=NOW) == claims
    assert signer.verify(legacy, now=NOW + timedelta(days=16)).exp == claims.exp  # reading grace
    with pytest.raises(ExpiredLink):
        signer.verify(legacy, now=NOW + timedelta(days=17))
    for junk in (legacy + "x", legacy + "=", legacy + ".", legacy.replace(".", "..", 1)):
        with pytest.raises(InvalidLink):
            signer.verify(junk, now=NOW)
    strict = LinkSigner([SecretStr(f"k1:{SECRET}")], timedelta(days=14), accept_legacy=False)
    with pytest.raises(InvalidLink):
        strict.verify(legacy, now=NOW)
    # What the service mints now is the canonical HMAC-SHA256 form, never the legacy one.
    token = signer.sign(claims)
    assert token.startswith("v2.k1.") and len(token.rsplit(".", 1)[1]) == 43
    for junk in (token + "x", token + "=", token + "A", "v2." + token, token.replace("v2.", "V2.")):
        with pytest.raises(InvalidLink):
            signer.verify(junk, now=NOW)


def test_applicant_markdown_is_inert_in_the_temporal_ui() -> None:
    dossier = _dossier("a@exemple.fr").model_copy(update={
        "project_name": "[Cliquez ici](https://evil.example) **urgent** <img src=x onerror=alert(1)>"
                        "\n# Titre | colonne |",
    })
    dossier.structure.name = "![logo](https://evil.example/x.png) `code` _it_"
    render = MarkdownIt("commonmark").enable("table").render
    summary, details = render(dossier_summary(1, dossier)), render(dossier_details(dossier))
    for html in (summary, details):
        for markup in ("<a ", "<strong>", "<img", "<h1>", "<em>", "<code>"):
            assert markup not in html, (markup, html)
    assert "[Cliquez ici](https://evil.example) **urgent** &lt;img src=x" in summary
    assert details.count("<tr>") == 8  # header and seven rows: none added, none split
