"""Every platform mutation run twice (a Temporal retry after a lost answer) applies once.

The platform gives no idempotency of its own (``clientMutationId`` is only echoed), so each
activity reads the dossier first. Counted on the stand-in's log of applied mutations.
"""

from __future__ import annotations

import pytest

from activities.platform.models import PlatformAnnotations, PlatformDecision, PlatformMessage
from core.domain.dossier import PlatformState
from core.domain.procedure import Outcome
from tests.activities.standin import StandIn, run

AVIS_CRA = "Q2hhbXAtMjAx"  # the default annotation ids of the settings and the stand-in
ETAPE = "Q2hhbXAtMjAy"
SYSTEM = "contact@demarche.numerique.gouv.fr"  # the platform's own messages on state changes


def ours(state: dict[str, object]) -> list[dict[str, object]]:
    """The dossier's messages but the platform's system messages."""
    return [m for m in state["messages"] if m["email"] != SYSTEM]  # type: ignore[attr-defined]


async def test_passer_en_instruction_twice_applies_once(standin: StandIn) -> None:
    number = await standin.file()
    acts = standin.activities()

    assert await run(acts.passer_en_instruction, number) is PlatformState.EN_INSTRUCTION
    assert await run(acts.passer_en_instruction, number) is PlatformState.EN_INSTRUCTION

    assert await standin.mutations(number) == ["dossierPasserEnInstruction"]
    traitements = (await standin.state(number))["traitements"]
    assert [t["event"] for t in traitements] == ["depose", "passe_en_instruction"]


async def test_passer_en_instruction_leaves_a_decided_dossier_alone(standin: StandIn) -> None:
    number = await standin.file()
    acts = standin.activities()
    await run(acts.decide, PlatformDecision(number=number, outcome=Outcome.LAUREAT, motivation=""))

    assert await run(acts.passer_en_instruction, number) is PlatformState.ACCEPTE
    assert await standin.mutations(number) == ["dossierPasserEnInstruction", "dossierAccepter"]


async def test_the_same_message_twice_is_posted_once(standin: StandIn) -> None:
    number = await standin.file()
    acts = standin.activities()
    message = PlatformMessage(number=number, body="Nous avons bien reçu votre candidature.")

    assert await run(acts.send_message, message) is True
    assert await run(acts.send_message, message) is False  # already there: nothing sent

    assert await standin.mutations(number) == ["dossierEnvoyerMessage"]
    bodies = [m["body"] for m in ours(await standin.state(number))]
    assert bodies == ["Nous avons bien reçu votre candidature."]


async def test_the_same_correction_request_twice_is_posted_once(standin: StandIn) -> None:
    number = await standin.file(2)  # the incomplete sample
    acts = standin.activities()
    request = PlatformMessage(number=number, body="Merci de joindre les statuts signés.",
                              correction=True)

    assert await run(acts.send_message, request) is True
    assert await run(acts.send_message, request) is False

    assert await standin.mutations(number) == ["dossierEnvoyerMessage"]
    state = await standin.state(number)
    assert state["pending_correction"] is True
    assert [m["correction"]["reason"] for m in ours(state)] == ["incomplete"]  # type: ignore[index]


@pytest.mark.parametrize(("outcome", "mutation", "state", "label"), [
    (Outcome.LAUREAT, "dossierAccepter", PlatformState.ACCEPTE, "accepte"),
    (Outcome.NON_RETENU, "dossierRefuser", PlatformState.REFUSE, "refuse"),
    (Outcome.SANS_SUITE, "dossierClasserSansSuite", PlatformState.SANS_SUITE, "classe_sans_suite"),
])
async def test_a_decision_twice_applies_once(standin: StandIn, outcome: Outcome, mutation: str,
                                             state: PlatformState, label: str) -> None:
    number = await standin.file()
    acts = standin.activities()
    decision = PlatformDecision(number=number, outcome=outcome, motivation="Avis du comité.")

    assert await run(acts.decide, decision) is state
    assert await run(acts.decide, decision) is state

    # From en_construction the activity first passes the dossier en instruction, once.
    assert await standin.mutations(number) == ["dossierPasserEnInstruction", mutation]
    dossier = await standin.state(number)
    assert dossier["state"] == state.value
    assert dossier["motivation"] == "Avis du comité."
    assert [t["event"] for t in dossier["traitements"]][-1] == label


async def test_a_decision_retried_after_a_partial_run_finishes_the_job(standin: StandIn) -> None:
    """A first attempt that stopped after ``passer en instruction`` (answer lost) is finished
    by the retry, which does not pass the dossier en instruction a second time."""
    number = await standin.file()
    acts = standin.activities()
    await run(acts.passer_en_instruction, number)

    decision = PlatformDecision(number=number, outcome=Outcome.NON_RETENU, motivation="Hors AMI.")
    assert await run(acts.decide, decision) is PlatformState.REFUSE
    assert await standin.mutations(number) == ["dossierPasserEnInstruction", "dossierRefuser"]


async def test_a_decision_on_a_dossier_awaiting_correction(standin: StandIn) -> None:
    """The platform refuses to instruct a dossier awaiting correction: the activity withdraws
    the request first, then decides; run twice, each step still applies once."""
    number = await standin.file(2)
    acts = standin.activities()
    await run(acts.send_message, PlatformMessage(number=number, body="Statuts ?", correction=True))
    decision = PlatformDecision(number=number, outcome=Outcome.SANS_SUITE,
                                motivation="Dossier incomplet à l’échéance.")

    assert await run(acts.decide, decision) is PlatformState.SANS_SUITE
    assert await run(acts.decide, decision) is PlatformState.SANS_SUITE

    assert await standin.mutations(number) == [
        "dossierEnvoyerMessage", "dossierAnnulerDemandeCorrection",
        "dossierPasserEnInstruction", "dossierClasserSansSuite"]


async def test_annotations_twice_are_written_once(standin: StandIn) -> None:
    """Decision: annotations are written only when their text differs. Writing the same text
    again would be harmless for the reader, but it moves dateDerniereModification and comes
    back to our sync as an echo, so the second run writes nothing."""
    number = await standin.file()
    acts = standin.activities()
    annotations = PlatformAnnotations(number=number, opinions="Bretagne : favorable",
                                      stage="Dossier clos")

    await run(acts.annotate, annotations)
    before = (await standin.state(number))["updated_at_us"]
    await run(acts.annotate, annotations)

    assert await standin.mutations(number) == ["dossierModifierAnnotations"]
    state = await standin.state(number)
    assert state["updated_at_us"] == before
    assert state["annotations"][AVIS_CRA]["value"] == "Bretagne : favorable"
    assert state["annotations"][ETAPE]["value"] == "Dossier clos"


async def test_changed_annotations_are_written_again(standin: StandIn) -> None:
    number = await standin.file()
    acts = standin.activities()
    await run(acts.annotate, PlatformAnnotations(number=number, opinions="Bretagne : favorable",
                                                 stage="Instruction"))
    await run(acts.annotate, PlatformAnnotations(number=number, opinions="Bretagne : favorable",
                                                 stage="Dossier clos"))

    assert await standin.mutations(number) == ["dossierModifierAnnotations"] * 2
    log = (await standin.http.get("/_standin/mutations", params={"dossier": number})).json()
    assert log[1]["input"]["annotations"] == [{"id": ETAPE, "value": {"text": "Dossier clos"}}]
    assert (await standin.state(number))["annotations"][ETAPE]["value"] == "Dossier clos"
