"""The synthesis page in a real browser (Debian's headless Chromium, JavaScript on for the DSFR
charts), signed in through the local OpenID provider: filters and sort change the rows, each
chart renders (a canvas) with its table, ``/metrics`` gives the same figures, and an account
whose role was withdrawn gets 403. Screenshots: tests/output/screenshots/synthese-*."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from api.app import create_app
from core.db.repositories import AgentRoleRepository
from core.domain.procedure import ConsultationStatus, Opinion
from core.domain.synthesis import ConsultationSynthesis
from core.settings import AgentPageSettings, OidcSettings
from tests.api.issuer import CLIENT_ID, CLIENT_SECRET, LocalIssuer
from tests.api.site import Site, free_port, serve, site_settings
from tests.api.test_agents_browser import ARGS, CHROMIUM, SHOTS
from tests.api.test_synthesis import FILED, fixture_snapshot

pytestmark = pytest.mark.asyncio(loop_scope="session")
PERIOD = "du=2026-03-01&au=2026-03-31"  # only this test's dossiers (the site's are filed today)
FIRST = 900_001
USER = {"sub": "sub-berenice", "email": "berenice@finances.gouv.fr", "given_name": "Bérénice",
        "usual_name": "Instructrice"}


@pytest.fixture
async def synthesis_url(site: Site, issuer: LocalIssuer) -> AsyncIterator[str]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = site_settings(site.stack, base_url)
    settings.agents = AgentPageSettings(
        session_secret="synthesis-secret",  # type: ignore[arg-type]
        oidc=OidcSettings(issuer=issuer.url, client_id=CLIENT_ID,
                          client_secret=CLIENT_SECRET))  # type: ignore[arg-type]
    app = create_app(settings, temporal=site.client, db=site.stack.res.db)
    from tests.api.test_synthesis import _store

    db = site.stack.res.db
    await _store(db, FIRST, fixture_snapshot(FIRST, "Pôle de Brocéliande"))  # Bretagne, Occitanie
    other = fixture_snapshot(FIRST + 1, "Pôle francilien").model_copy(update={
        "regions": ["11"], "decision": None, "eligibility": None, "consultations": [
            ConsultationSynthesis(region="11", status=ConsultationStatus.ANSWERED,
                                  opinion=Opinion.UNFAVOURABLE, author="Paul Martin (CRESS)",
                                  answered_at=FILED + timedelta(days=18),
                                  invited_at=FILED + timedelta(days=1))]})
    await _store(db, FIRST + 1, other, stage="instruction")
    issuer.tamper, issuer.user = None, USER
    async with db.unit_of_work() as session:
        await AgentRoleRepository(session).put("sub-berenice", "agent", "test")
    async with serve(app, port):
        yield base_url


async def test_the_synthesis_page_filters_sorts_and_draws_its_charts(
        site: Site, synthesis_url: str) -> None:
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is absent (apt-get install chromium): browser test skipped"
        print(reason)
        pytest.skip(reason)
    from playwright.async_api import Page, async_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)

    async def numbers(page: Page) -> list[str]:
        return [n for n in await page.locator("#synthese tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.numero)") if n]

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = await browser.new_context(locale="fr-FR", viewport={"width": 1400,
                                                                          "height": 1000})
            page = await context.new_page()
            page.set_default_timeout(15_000)
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            # Signed in through the OpenID provider, then straight to the synthesis.
            target = quote(f"/agents/synthese?{PERIOD}")
            await page.goto(f"{synthesis_url}/connexion/oidc?suivant={target}")
            await page.get_by_role("heading", level=1, name="Synthèse des avis").wait_for()
            assert await numbers(page) == [str(FIRST), str(FIRST + 1)]
            main = await page.inner_text("main")
            assert "jusqu’au 31/03/2026" in main
            assert "Bretagne : Favorable avec réserves, le 19/03/2026, par Élodie Kerjean" in main
            assert "Occitanie : Sans réponse à l’échéance" in main

            # Each chart renders (a canvas drawn by the DSFR charts) beside its table.
            for figure in ("etapes", "avis", "decisions-region", "decisions-territoire", "delais",
                           "depots"):
                block = page.locator(f"#figure-{figure}")
                await block.locator("canvas").first.wait_for(state="attached")
                table = block.locator("table")
                assert await table.locator("caption").count() == 1
                assert await table.locator("th[scope=col]").count() >= 2
                assert await table.locator("tbody th[scope=row]").count() >= 1
            delays = await page.locator("#figure-delais table").inner_text()
            assert "Bretagne" in delays and "Île-de-France" in delays and "17" in delays
            await page.locator("#figure-etapes").scroll_into_view_if_needed()
            await page.screenshot(path=SHOTS / "synthese-1-page.png", full_page=True)

            # Sort by the CRAs' opinions, descending: the unfavourable one first.
            await page.get_by_role("link", name="Avis des CRA", exact=True).click()
            await page.wait_for_url("**tri=avis**")
            assert await numbers(page) == [str(FIRST), str(FIRST + 1)]
            await page.get_by_role("link", name="Avis des CRA ▲").click()
            await page.wait_for_url("**ordre=desc**")
            assert await numbers(page) == [str(FIRST + 1), str(FIRST)]

            # Filters: one region, then a decision state.
            await page.select_option("#filtre-region", "53")
            await page.get_by_role("button", name="Appliquer").click()
            await page.wait_for_url("**region=53**")
            assert await numbers(page) == [str(FIRST)]
            await page.select_option("#filtre-region", "")
            await page.select_option("#filtre-decision", "none")
            await page.get_by_role("button", name="Appliquer").click()
            await page.wait_for_url("**decision=none**")
            assert await numbers(page) == [str(FIRST + 1)]
            await page.screenshot(path=SHOTS / "synthese-2-filtre.png", full_page=True)
            assert not [e for e in errors if "Content Security Policy" in e], errors

            # The role withdrawn by an admin: the same signed-in account now gets 403.
            async with site.stack.res.db.unit_of_work() as session:
                assert await AgentRoleRepository(session).remove("sub-berenice")
            response = await page.goto(f"{synthesis_url}/agents/synthese")
            assert response is not None and response.status == 403
            assert "Accès non autorisé" in await page.inner_text("main")
            export = await page.goto(f"{synthesis_url}/agents/synthese/export.csv")
            assert export is not None and export.status == 403
        finally:
            await browser.close()

    # Operations read the same figures on /metrics (default selection: open or recently decided).
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{synthesis_url}/metrics")).text
    assert "ptce_synthesis_up 1.0" in text
    assert 'ptce_synthesis_cra_opinions{opinion="unfavourable",region="11"}' in text
    assert 'ptce_synthesis_decisions_by_region{outcome="laureat",region="53"}' in text
    assert 'ptce_synthesis_cra_answer_delay_days{region="11",stat="max"} 17.0' in text
