"""A BESSII agent in a real browser (Debian's headless Chromium, JavaScript off), on the real
dev server with a worker: dev sign-in → dossier list → a dossier at the admissibility stage →
admissibility recorded → a decision refused while the CRA consultation is open → the decision
with an override reason → the dossier closed. Screenshots: tests/output/screenshots/agents-*."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from api.app import create_app
from core.domain.procedure import Outcome
from core.ids import dossier_workflow_id
from core.settings import AgentPageSettings
from tests.api.site import Site, free_port, serve, site_settings
from workflows.dossier import DossierWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[1] / "output" / "screenshots"


@pytest.fixture
async def agents_url(site: Site) -> AsyncIterator[str]:
    """The same stack and worker as the CRA site, served as the embedded default (dev)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = site_settings(site.stack, base_url)
    settings.environment = "dev"
    settings.agents = AgentPageSettings(session_secret="browser-secret")  # type: ignore[arg-type]
    app = create_app(settings, temporal=site.client, db=site.stack.res.db)
    async with serve(app, port):
        yield base_url


async def test_an_agent_records_admissibility_and_a_decision(site: Site, agents_url: str) -> None:
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is absent (apt-get install chromium): browser test skipped"
        print(reason)
        pytest.skip(reason)
    from playwright.async_api import Page, async_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("agents-*.png"):
        old.unlink()
    number = await site.start(0)  # Bretagne: one CRA consulted, its deadline weeks away

    async def reload_until(page: Page, text: str, timeout: float = 15.0) -> None:
        for _ in range(int(timeout * 4)):
            if text in await page.inner_text("main"):
                return
            await asyncio.sleep(0.25)
            await page.reload()
        raise AssertionError(f"{text!r} never shown")

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = await browser.new_context(java_script_enabled=False, locale="fr-FR",
                                                viewport={"width": 1280, "height": 900})
            page = await context.new_page()
            page.set_default_timeout(10_000)

            # Not signed in: the list sends to the sign-in page, the dev form is marked as such.
            await page.goto(f"{agents_url}/agents")
            await page.get_by_role("heading", level=2, name="Connexion de développement").wait_for()
            await page.get_by_label("Nom affiché").fill("Bérénice Instructrice")
            await page.get_by_label("Adresse électronique").fill("berenice@dgtresor.localhost")
            await page.screenshot(path=SHOTS / "agents-1-connexion.png", full_page=True)
            await page.get_by_role("button", name="Se connecter (développement)").click()

            # The list, by stage, from Temporal visibility (reaches it within a second or so).
            await page.get_by_role("heading", level=1, name="Dossiers de l’AMI PTCE").wait_for()
            await reload_until(page, f"n° {number}")
            await page.screenshot(path=SHOTS / "agents-2-liste.png", full_page=True)
            await page.get_by_role("link", name=f"n° {number}", exact=True).click()

            # The dossier: data, completeness, the open consultation, history; then admissibility.
            await page.get_by_role("heading", level=1, name=f"Dossier n° {number}").first.wait_for()
            main = await page.inner_text("main")
            for text in ("Examen de la recevabilité", "Dossier complet", "CRA Bretagne",
                         "En attente de l’avis", "Consultation de la CRA Bretagne ouverte"):
                assert text in main, text
            await page.screenshot(path=SHOTS / "agents-3-dossier.png", full_page=True)
            await page.click("label[for=admissible-oui]")
            await page.fill("#reason", "Dossier complet ; structure porteuse éligible.")
            await page.get_by_role("button", name="Enregistrer la recevabilité").click()
            await page.get_by_text("La recevabilité a été enregistrée.").wait_for()

            # The decision while the CRA is still consulted: refused, with the reason why.
            await reload_until(page, "Enregistrer la décision")
            await page.click("label[for=outcome-laureat]")
            await page.get_by_role("button", name="Enregistrer la décision").click()
            refusal = page.locator("#refus")
            await refusal.wait_for()
            text = await refusal.inner_text()
            assert "consultation de la CRA (Bretagne) est encore ouverte" in text, text
            assert await page.is_checked("#outcome-laureat")  # the form keeps what was typed
            await refusal.scroll_into_view_if_needed()
            await page.screenshot(path=SHOTS / "agents-4-refus.png", full_page=True)

            # With an override reason (and two scores) the decision goes through.
            await page.fill("#motivation", "Projet exemplaire de coopération territoriale.")
            await page.fill("#override_reason", "Comité de sélection avancé ; la CRA a été "
                            "informée par téléphone.")
            await page.select_option("#score-credibility", "4")
            await page.select_option("#score-jobs", "5")
            await page.get_by_role("button", name="Enregistrer la décision").click()
            await page.get_by_text("La décision a été enregistrée").wait_for()
            await reload_until(page, "Étape : Clos")
            main = await page.inner_text("main")
            assert "Décision : lauréat" in main and "Décision notifiée" in main
            assert "par Bérénice Instructrice" in main
            await page.screenshot(path=SHOTS / "agents-5-clos.png", full_page=True)
        finally:
            await browser.close()

    # The workflow recorded who decided: the identity of the session, never a form field.
    result = await site.client.get_workflow_handle_for(
        DossierWorkflow.run, dossier_workflow_id(number)).result()
    assert result.outcome is Outcome.LAUREAT
    assert result.decided_by == "dev:berenice@dgtresor.localhost"
