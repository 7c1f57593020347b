"""The platform activities against what the platform really does (stand-in faithful to its
source): long-text annotations, required annotations, the SIRET degraded mode, its own emails,
corrections resolved by the applicant, and the alerts to the admins."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.alerts import AdminAlerts
from activities.platform.activities import PlatformActivities
from activities.platform.models import PlatformAnnotations, PlatformDecision, PlatformMessage
from activities.platform.token import token_source
from core.domain.procedure import Outcome
from core.mapping import DEMO_DEMARCHE_FILE
from tests.activities.standin import StandIn, failure, run

OPINIONS, STAGE, NOTE = "Q2hhbXAtMjAx", "Q2hhbXAtMjAy", "Q2hhbXAtMjAz"


def demarche_file(tmp: Path, **annotations: dict[str, Any]) -> Path:
    """The demo démarche with its own private annotations."""
    data = json.loads(DEMO_DEMARCHE_FILE.read_text())
    data["annotations"] = [
        {"id": OPINIONS, "label": "Avis des CRA", "type": "TextChamp", **annotations.get("opinions", {})},
        {"id": STAGE, "label": "Étape de la procédure", "type": "TextChamp"},
        *([{"id": NOTE, "label": "Note du comité", "type": "TextChamp", **annotations["note"]}]
          if "note" in annotations else []),
    ]
    path = tmp / "demarche.json"
    path.write_text(json.dumps(data, ensure_ascii=False))
    return path


@pytest.fixture
async def platform(tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    options = getattr(request, "param", {})
    standin = StandIn.create(tmp_path / "platform.db",
                             demarche_file=demarche_file(tmp_path, **options))
    try:
        yield standin
    finally:
        await standin.aclose()


@pytest.mark.parametrize("platform", [{"opinions": {"type": "Textarea"}}], indirect=True)
async def test_a_long_text_annotation_is_written_as_textarea(platform: StandIn) -> None:
    number = await platform.file()
    await run(platform.activities().annotate, PlatformAnnotations(
        number=number, opinions="Bretagne : favorable\nOccitanie : réservé", stage="Dossier clos"))

    log = (await platform.http.get("/_standin/mutations", params={"dossier": number})).json()
    values = {a["id"]: a["value"] for a in log[0]["input"]["annotations"]}
    assert values == {OPINIONS: {"textarea": "Bretagne : favorable\nOccitanie : réservé"},
                      STAGE: {"text": "Dossier clos"}}
    annotations = (await platform.state(number))["annotations"]
    assert annotations[OPINIONS]["value"] == "Bretagne : favorable\nOccitanie : réservé"


@pytest.mark.parametrize("platform", [{"note": {"required": True}}], indirect=True)
async def test_a_required_annotation_left_empty_is_a_clear_permanent_refusal(
        platform: StandIn) -> None:
    number = await platform.file()
    decision = PlatformDecision(number=number, outcome=Outcome.LAUREAT, motivation="")

    error = await failure(platform.activities().decide, decision)

    assert error.non_retryable and error.type == "PlatformRejected"
    assert error.message.startswith("annotations privées obligatoires non remplies : "
                                    "Note du comité")
    assert "déjà en instruction" not in error.message  # not the platform's misleading words
    # Filled on the platform (by an agent), the same decision goes through.
    (await platform.http.patch(f"/_standin/dossiers/{number}/annotations", json={
        "annotations": [{"id": NOTE, "value": {"text": "16/20"}}]})).raise_for_status()
    assert await run(platform.activities().decide, decision) == "accepte"


async def test_the_siret_degraded_mode_is_retried(standin: StandIn) -> None:
    number = await standin.file()
    await run(standin.activities().passer_en_instruction, number)
    await standin.http.post(f"/_standin/dossiers/{number}/flags", json={"siret_degraded": True})
    decision = PlatformDecision(number=number, outcome=Outcome.LAUREAT, motivation="")

    error = await failure(standin.activities().decide, decision)

    assert error.type == "PlatformUnavailable" and not error.non_retryable
    assert "SIRET" in error.message
    await standin.http.post(f"/_standin/dossiers/{number}/flags", json={"siret_degraded": False})
    assert await run(standin.activities().decide, decision) == "accepte"


async def emails(standin: StandIn, number: int) -> list[str]:
    return [e["kind"] for e in (await standin.http.get(
        "/_standin/emails", params={"dossier": number})).json()]


async def test_the_platform_emails_the_applicant_only_where_the_service_does_not(
        standin: StandIn) -> None:
    number = await standin.file()
    acts = standin.activities()
    assert await emails(standin, number) == ["en_construction"]  # at filing, always

    await run(acts.passer_en_instruction, number)  # the only news of the passage: the platform's
    await run(acts.decide, PlatformDecision(number=number, outcome=Outcome.LAUREAT, motivation=""))

    assert await emails(standin, number) == ["en_construction", "en_instruction"]  # not "accepte"
    traitements = [t["event"] for t in (await standin.state(number))["traitements"]]
    assert traitements == ["depose", "passe_en_instruction", "accepte"]


async def test_a_technical_passage_before_a_decision_sends_no_platform_email(
        standin: StandIn) -> None:
    number = await standin.file(2)
    acts = standin.activities()
    await run(acts.send_message, PlatformMessage(number=number, body="Statuts ?", correction=True))

    await run(acts.decide, PlatformDecision(number=number, outcome=Outcome.SANS_SUITE,
                                            motivation="Dossier incomplet à l’échéance."))

    assert await emails(standin, number) == ["en_construction", "pending_correction"]
    messages = (await standin.state(number))["messages"]
    system = [m["body"] for m in messages if m["email"] == "contact@demarche.numerique.gouv.fr"]
    assert len(system) == 3 and "classé sans suite" in system[-1]  # deposit, instruction, decision


async def test_a_correction_resolved_by_the_applicant_is_requested_again(standin: StandIn) -> None:
    """The same text again is a new request once the applicant submitted (resolving the last),
    and a request with another text replaces a pending one."""
    number = await standin.file(2)
    acts = standin.activities()
    first = PlatformMessage(number=number, body="Merci de joindre les statuts.", correction=True)
    assert await run(acts.send_message, first) is True
    await standin.edit(number, referent_role="Présidente")  # submitted, still without statutes

    assert await run(acts.send_message, first) is True
    other = PlatformMessage(number=number, body="Merci de joindre les statuts signés.",
                            correction=True)
    assert await run(acts.send_message, other) is True

    assert await standin.mutations(number) == [
        "dossierEnvoyerMessage", "dossierEnvoyerMessage", "dossierAnnulerDemandeCorrection",
        "dossierEnvoyerMessage"]
    pending = [m["body"] for m in (await standin.state(number))["messages"]
               if m["correction"] and m["correction"]["resolved_at"] is None]
    assert pending == ["Merci de joindre les statuts signés."]


async def test_an_expired_token_alerts_the_admins_once_a_day(standin: StandIn) -> None:
    sent: list[str] = []

    class Mail:
        async def deliver(self, request: Any) -> None:
            sent.append(request.key)

    acts = PlatformActivities(standin.ds(), standin.activities()._settings,
                              standin.activities()._mapping, AdminAlerts(Mail()))  # type: ignore[arg-type]
    number = await standin.file()
    await standin.http.post("/_standin/tokens", json={"token": "jeton-des-tests", "expired": True})

    for _ in range(3):
        await failure(acts.fetch_dossier, number)
    assert len(sent) == 3 and len(set(sent)) == 1  # one key: the mail activity sends it once
    assert sent[0].startswith("platform-alert:token-expired:")

    # An outage is worth an email only once it lasts (attempt 5 and later).
    await standin.http.post("/_standin/tokens", json={"token": "jeton-des-tests", "expired": False})
    await standin.fault(status=500, count=2)
    await failure(acts.fetch_dossier, number)
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=5)
    with pytest.raises(ApplicationError):
        await env.run(acts.fetch_dossier, number)
    assert [k.split(":")[1] for k in sent] == ["token-expired"] * 3 + ["unavailable"]


async def test_a_token_rotated_in_its_file_is_used_without_a_restart(standin: StandIn,
                                                                    tmp_path: Path) -> None:
    """README, "Rotation du jeton": a new token on the platform, written to the token file,
    the old one expired: the same client (a worker that does not restart) goes on."""
    secret = tmp_path / "ds_token"
    secret.write_text("jeton-des-tests\n")
    settings = standin.activities()._settings.model_copy(update={"token_file": secret})
    acts = PlatformActivities(standin.ds(token=token_source(settings)), settings,
                              standin.activities()._mapping)
    number = await standin.file()
    assert (await run(acts.fetch_dossier, number)).number == number

    await standin.http.post("/_standin/tokens", json={"token": "jeton-neuf"})
    await standin.http.post("/_standin/tokens", json={"token": "jeton-des-tests", "expired": True})
    assert (await failure(acts.fetch_dossier, number)).type == "PlatformAuth"
    secret.write_text("jeton-neuf\n")

    assert (await run(acts.fetch_dossier, number)).number == number
