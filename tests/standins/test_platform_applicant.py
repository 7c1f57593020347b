"""The stand-in's applicant pages: file a dossier, read it, answer a correction request.

Driven like a browser would: read the form on the page, change what a person would change,
post it, follow the redirect.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from standins.platform import DEFAULT_INSTRUCTEUR_ID, create_app
from tests.standins.browser import Form, forms
from tests.standins.test_platform_standin import (
    FIELDS,
    TOKEN,
    client_for,
    deposer,
    mutate,
    state_of,
)


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(create_app(tmp_path / "platform.db", TOKEN, DEFAULT_INSTRUCTEUR_ID)) as http:
        yield http


async def page(http: httpx.AsyncClient, number: int) -> httpx.Response:
    response = await http.get(f"/_standin/dossiers/{number}/usager")
    assert response.headers["content-type"].startswith("text/html")
    return response


async def form_of(http: httpx.AsyncClient, number: int) -> Form:
    """The dossier's edit form (the page also has the one-button deletion form)."""
    [form] = [f for f in forms((await page(http, number)).text) if f.action.endswith("/usager")]
    return form


async def test_the_page_shows_the_dossier_in_french_without_javascript(
        client: httpx.AsyncClient) -> None:
    number = await deposer(client)

    response = await page(client, number)

    assert response.status_code == 200
    assert '<html lang="fr">' in response.text
    assert f"Dossier n° {number}" in response.text
    assert "en construction" in response.text
    assert "<script" not in response.text
    form = await form_of(client, number)
    assert form.action == f"/_standin/dossiers/{number}/usager"
    assert form.values("project_name") == [FIELDS["project_name"]]
    assert form.values("region") == ["53"]
    assert form.values("other_regions") == ["Normandie\nPays de la Loire"]
    assert form.values("esus_approved") == ["oui"]
    assert form.values("territory_qpv") == ["oui"] and form.values("territory_zrr") == []
    assert form.values("statutes__conserver") == ["statuts.pdf"]


async def test_submitting_the_form_unchanged_keeps_every_answer(client: httpx.AsyncClient) -> None:
    number = await deposer(client)
    before = await state_of(client, number)

    response = await (await form_of(client, number)).submit(client)

    assert response.status_code == 303
    after = await state_of(client, number)
    # A checkbox has no "unanswered" state in HTML: a box never ticked now reads "non".
    assert before["fields"]["territory_deindustrialised"] is None
    assert after["fields"] == {**before["fields"], "territory_deindustrialised": False}
    assert after["updated_at_us"] > before["updated_at_us"]  # a saved edit, as on the platform


async def test_the_applicant_answers_a_correction_request(client: httpx.AsyncClient) -> None:
    number = await deposer(client, {**FIELDS, "statutes": []})
    await mutate(client, "envoyer_message.graphql", number,
                 body="Merci de joindre les statuts signés de la structure.",
                 correction="incomplete")

    shown = await page(client, number)
    assert "Demande de correction en attente" in shown.text
    assert "Merci de joindre les statuts signés de la structure." in shown.text

    form = await form_of(client, number)
    form.set("project_name", "PTCE de la Rance et de l’Émeraude")
    saved = await form.submit(client, files={"statutes": ("statuts-signes.pdf", b"%PDF-1.4")})

    assert saved.status_code == 303
    confirmation = await client.get(saved.headers["location"])
    assert "Vos modifications ont été enregistrées." in confirmation.text
    assert "Demande de correction en attente" not in confirmation.text
    state = await state_of(client, number)
    assert state["pending_correction"] is False
    assert state["messages"][-1]["correction"]["resolved_at"] is not None
    assert state["fields"]["statutes"] == ["statuts-signes.pdf"]
    assert state["fields"]["project_name"] == "PTCE de la Rance et de l’Émeraude"
    assert state["fields"]["region"] == "53"  # untouched answers stay


async def test_an_attached_file_can_be_removed(client: httpx.AsyncClient) -> None:
    number = await deposer(client)
    form = await form_of(client, number)
    form.set("statutes__conserver")  # untick the file already attached

    await form.submit(client)

    assert (await state_of(client, number))["fields"]["statutes"] == []


async def test_an_invalid_answer_is_refused_with_its_message(client: httpx.AsyncClient) -> None:
    number = await deposer(client)
    before = await state_of(client, number)
    form = await form_of(client, number)
    form.set("region", "Atlantide")  # not an option of the select: a forged post

    response = await form.submit(client)

    assert response.status_code == 422
    assert "région inconnue « Atlantide »" in response.text
    assert (await state_of(client, number))["updated_at_us"] == before["updated_at_us"]


async def test_a_dossier_en_instruction_can_no_longer_be_edited(client: httpx.AsyncClient) -> None:
    number = await deposer(client)
    form = await form_of(client, number)
    await mutate(client, "passer_en_instruction.graphql", number)

    shown = await page(client, number)
    assert "Le dossier n’est plus modifiable : il est en instruction." in shown.text
    assert forms(shown.text) == []
    late = await form.submit(client)  # a form left open in another tab
    assert late.status_code == 409
    assert "n’est plus modifiable par l’usager" in late.text


async def test_an_applicant_files_a_dossier(client: httpx.AsyncClient) -> None:
    blank = await client.get("/_standin/usager/nouveau")
    assert blank.status_code == 200
    [form] = forms(blank.text)
    form.set("usager_email", "samir.benali@qni.example")
    form.set("project_name", "Quartiers Nord en coopération")
    form.set("region", "93")
    form.set("esus_approved", "non")
    form.set("territory_qpv", "oui")

    filed = await form.submit(client, files={"statutes": ("statuts.pdf", b"%PDF-1.4")})

    assert filed.status_code == 303
    landing = await client.get(filed.headers["location"])
    assert "Votre dossier a été déposé." in landing.text
    number = int(filed.headers["location"].split("/")[3])
    state = await state_of(client, number)
    assert state["state"] == "en_construction"
    assert state["usager_email"] == "samir.benali@qni.example"
    fields: dict[str, Any] = state["fields"]
    assert fields["project_name"] == "Quartiers Nord en coopération"
    assert (fields["region"], fields["esus_approved"], fields["territory_qpv"]) == ("93", False, True)
    assert fields["statutes"] == ["statuts.pdf"]
    assert fields["structure_name"] is None  # left blank


async def test_filing_needs_an_email(client: httpx.AsyncClient) -> None:
    [form] = forms((await client.get("/_standin/usager/nouveau")).text)
    refused = await form.submit(client)
    assert refused.status_code == 422
    assert "adresse électronique valide" in refused.text
    assert (await client.get("/_standin/dossiers")).json() == []


async def test_answers_are_escaped(client: httpx.AsyncClient) -> None:
    number = await deposer(client, {**FIELDS, "project_name": "<script>alert(1)</script>"})
    shown = await page(client, number)
    assert "<script>" not in shown.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.text


async def test_unknown_or_deleted_dossier_is_a_french_404(client: httpx.AsyncClient) -> None:
    assert (await page(client, 404)).status_code == 404
    number = await deposer(client)
    await client.post(f"/_standin/dossiers/{number}/usager/supprimer")
    hidden = await page(client, number)  # the applicant's trash: restorable for two weeks
    assert hidden.status_code == 200 and "Restaurer le dossier" in hidden.text
    await client.post("/_standin/purge", json={"older_than_seconds": 0})
    gone = await page(client, number)
    assert gone.status_code == 404
    assert "Ce dossier n’existe pas ou a été supprimé." in gone.text


async def test_the_home_page_leads_to_the_applicant_pages(client: httpx.AsyncClient) -> None:
    number = await deposer(client)
    home = await client.get("/")
    assert f'href="/_standin/dossiers/{number}/usager"' in home.text
    assert 'href="/_standin/usager/nouveau"' in home.text
