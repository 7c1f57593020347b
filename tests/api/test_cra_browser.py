"""A CRA pair answers in a real browser (Debian's headless Chromium, JavaScript off):
open the link → read the dossier → submit with an error → fix → confirmation → the second
member amends → the deadline passes (an admin brings it forward: no test waits out a
consultation) → read-only page. Screenshots go to tests/output/."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowExecutionStatus

from core.domain.admin import DeadlineChange
from core.domain.policy import Policy
from core.domain.procedure import ConsultationStatus, Opinion
from tests.api.site import Site
from tests.workflows.helpers import AGENT
from workflows.consultation import CraConsultationWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[1] / "output" / "screenshots"
DEADLINE = timedelta(minutes=10)
SHORT = Policy(cra_deadline=DEADLINE, cra_reminders=[])


async def _wait_closed(site: Site, number: int, region: str, timeout: float) -> None:
    handle = site.consultation(number, region)
    for _ in range(int(timeout * 4)):
        if (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED:
            return
        await asyncio.sleep(0.25)
    raise AssertionError("the consultation did not close at its deadline")


async def test_a_cra_pair_answers_in_a_real_browser(site: Site) -> None:
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is absent (apt-get install chromium): browser test skipped"
        print(reason)
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("[0-9]-*.png"):  # only this test's screenshots
        old.unlink()
    number = await site.start(0, policy=SHORT)  # Bretagne, ZRR: one CRA
    tokens = await site.tokens(number)
    ess, cress = tokens["ess.53@cra.localhost"], tokens["cress.53@cra.localhost"]

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            first = await (await browser.new_context(java_script_enabled=False, locale="fr-FR",
                                                     viewport={"width": 1200, "height": 900})).new_page()
            first.set_default_timeout(10_000)
            # Open the link and read the dossier.
            response = await first.goto(site.url(ess))
            assert response is not None and response.status == 200
            await first.get_by_role("heading", level=1, name="Avis de la CRA Bretagne").wait_for()
            body = await first.inner_text("main")
            for text in ("Pôle de l’économie circulaire du pays de Brocéliande",
                         "Association Brocéliande Coopère", "Zone de revitalisation rurale (ZRR)",
                         "statuts-signes.pdf", "Mode de gouvernance", "Échéance :"):
                assert text in body
            assert "06 12 34 56 78" not in body and "maelle.legoff" not in body  # referent
            await first.screenshot(path=SHOTS / "1-formulaire.png", full_page=True)

            # Submit with errors: an opinion but no motivation nor declaration.
            await first.click("label[for=opinion-favourable_with_reservations]")  # as people do
            await first.get_by_role("button", name="Enregistrer l’avis").click()
            summary = first.get_by_role("alert")
            await summary.wait_for()
            assert "2 erreurs à corriger" in await summary.inner_text()
            assert await first.get_by_label("Favorable avec réserves").is_checked()  # kept
            assert await first.title() == ("Erreur – Avis sur le dossier n° "
                                           f"{number} – Avis des CRA – AMI PTCE")
            await first.screenshot(path=SHOTS / "2-erreurs.png", full_page=True)

            # Fix, with the keyboard only from the motivation on.
            await first.get_by_label("Motivation de l’avis").fill(
                "Projet bien ancré dans trois intercommunalités rurales.\n"
                "Réserve : le modèle économique dépend encore à 60 % des subventions.")
            await first.keyboard.press("Tab")  # criteria (optional)
            await first.keyboard.type("Coopération réelle entre les membres.")
            await first.keyboard.press("Tab")  # the appreciations (optional): one of three
            await first.keyboard.press("ArrowDown")  # "Très satisfaisant" for the vision
            for _ in range(3):  # past the other two, to the declaration
                await first.keyboard.press("Tab")
            await first.keyboard.press("Space")
            await first.keyboard.press("Tab")  # the button
            await first.keyboard.press("Enter")
            await first.get_by_role("heading", level=1, name="Avis enregistré").wait_for()
            confirmed = await first.inner_text("main")
            assert "Correspondant·e ESS Bretagne" in confirmed
            assert "Vision stratégique et objectifs : Très satisfaisant" in confirmed
            await first.screenshot(path=SHOTS / "3-confirmation.png", full_page=True)

            # The other member of the pair sees the opinion and amends it.
            second = await (await browser.new_context(java_script_enabled=False,
                                                      locale="fr-FR")).new_page()
            second.set_default_timeout(10_000)
            await second.goto(site.url(cress))
            current = (await second.inner_text("section[aria-labelledby=avis-actuel]")).lower()
            assert "favorable avec réserves" in current and "correspondant·e ess bretagne" in current
            await second.click("label[for=opinion-favourable]")
            await second.get_by_label("Motivation de l’avis").fill(
                "Projet solide : la réserve sur le financement est levée par la convention "
                "signée avec la région.")
            await second.click("label[for=no_conflict_of_interest]")
            await second.get_by_role("button", name="Enregistrer la modification").click()
            await second.get_by_role("heading", level=1, name="Avis enregistré").wait_for()
            assert "Représentant·e CRESS Bretagne" in await second.inner_text("main")

            # The deadline passes: the page becomes the read-only outcome.
            await site.consultation(number, "53").execute_update(
                CraConsultationWorkflow.change_deadline, DeadlineChange(
                    agent=AGENT, reason="Comité avancé.",
                    deadline=datetime.now(UTC) + timedelta(seconds=1)))
            await _wait_closed(site, number, "53", timeout=30)
            await first.goto(site.url(ess))
            await first.get_by_role("heading", level=1, name="Consultation close").wait_for()
            closed = (await first.inner_text("main")).lower()
            assert "favorable" in closed and "représentant·e cress bretagne" in closed
            assert await first.locator("form").count() == 0
            await first.screenshot(path=SHOTS / "4-lecture-seule.png", full_page=True)

            # The two refusals a member may meet: an expired link, a mangled one.
            expired = site.mint(number, "53", "cra-53-ess", deadline_in=-timedelta(days=20))
            assert (r := await first.goto(site.url(expired))) is not None and r.status == 410
            await first.get_by_role("heading", level=1, name="Ce lien a expiré").wait_for()
            await first.screenshot(path=SHOTS / "5-lien-expire.png")
            assert (r := await first.goto(site.url(ess[:-3]))) is not None and r.status == 404
            await first.get_by_role("heading", level=1, name="Lien invalide").wait_for()
            await first.screenshot(path=SHOTS / "6-lien-invalide.png")
        finally:
            await browser.close()

    result = await site.consultation(number, "53").result()
    assert result.status is ConsultationStatus.ANSWERED
    assert result.opinion is not None and result.opinion.opinion is Opinion.FAVOURABLE
    assert (result.opinion.written_by, result.opinion.amended_by) == ("cra-53-ess", ["cra-53-cress"])
    outcomes = [(r.member_id, r.outcome) for r in await site.audit(dossier_number=number)]
    assert outcomes.count(("cra-53-ess", "invalid_form")) == 1
    assert [m for m, o in outcomes if o == "accepted"] == ["cra-53-ess", "cra-53-cress"]
    assert ("cra-53-ess", "shown_closed") in outcomes
