"""The local mailbox: an SMTP sink that keeps every message and shows it on a web page."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import aiosmtplib
import httpx
import pytest

from api.cli.ports import free_port
from standins.mailbox import RunningMailbox, run_mailbox, start_mailbox

HOST = "127.0.0.1"
SENDER = "Secrétariat AMI PTCE <ne-pas-repondre@ptce.localhost>"
PORTEUR = "elodie.martin@exemple.fr"
BESSII = "bessii@dgtresor.localhost"
SUBJECT = "Accusé de réception : dossier n°42 <urgent> — été"


def french_message(subject: str = SUBJECT) -> EmailMessage:
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = f"Élodie Martin <{PORTEUR}>, {BESSII}"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="ptce.localhost")
    message.set_content("Bonjour,\n\nVotre dossier a bien été reçu.\n")
    message.add_alternative(
        "<p>Votre dossier a bien été <strong>reçu</strong>.</p><script>alert(1)</script>",
        subtype="html",
    )
    return message


async def send(port: int, message: EmailMessage) -> None:
    await aiosmtplib.send(message, hostname=HOST, port=port, start_tls=False, timeout=10)


def web(running: RunningMailbox) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://{HOST}:{running.web_port}", timeout=10)




@pytest.fixture
async def mailbox(tmp_path: Path) -> AsyncIterator[RunningMailbox]:
    running = await start_mailbox(HOST, 0, HOST, 0, tmp_path / "mailbox.sqlite3")
    try:
        yield running
    finally:
        await running.close()


async def test_a_french_multipart_message_is_stored_decoded(mailbox: RunningMailbox) -> None:
    message = french_message()
    await send(mailbox.smtp_port, message)

    async with web(mailbox) as client:
        listed = (await client.get("/api/messages")).json()
        assert len(listed) == 1
        stored = listed[0]
        assert stored["subject"] == SUBJECT
        assert stored["to"] == [PORTEUR, BESSII]
        assert stored["from"] == SENDER
        assert stored["message_id"] == message["Message-ID"]
        assert stored["text"] == "Bonjour,\n\nVotre dossier a bien été reçu.\n"
        assert "<strong>reçu</strong>" in stored["html"]
        assert stored["received_at"]

        one = (await client.get(f"/api/messages/{stored['id']}")).json()
        assert one == stored


async def test_the_api_filters_by_recipient_and_subject(mailbox: RunningMailbox) -> None:
    await send(mailbox.smtp_port, french_message("Relance : avis du comité attendu"))
    only_bessii = french_message("Nouveau dossier déposé")
    del only_bessii["To"]
    only_bessii["To"] = BESSII
    await send(mailbox.smtp_port, only_bessii)

    async with web(mailbox) as client:
        newest_first = (await client.get("/api/messages")).json()
        by_recipient = (await client.get("/api/messages", params={"to": "ELODIE"})).json()
        by_subject = (await client.get("/api/messages", params={"subject": "comité"})).json()
        nothing = (await client.get("/api/messages", params={"subject": "inconnu"})).json()

    assert [m["subject"] for m in newest_first] == [
        "Nouveau dossier déposé",
        "Relance : avis du comité attendu",
    ]
    assert [m["subject"] for m in by_recipient] == ["Relance : avis du comité attendu"]
    assert [m["subject"] for m in by_subject] == ["Relance : avis du comité attendu"]
    assert nothing == []


async def test_the_inbox_page_lists_messages_escaped(mailbox: RunningMailbox) -> None:
    await send(mailbox.smtp_port, french_message())

    async with web(mailbox) as client:
        [stored] = (await client.get("/api/messages")).json()
        inbox = await client.get("/")
        detail = await client.get(f"/messages/{stored['id']}")
        html_body = await client.get(f"/messages/{stored['id']}/html")

    assert inbox.status_code == 200
    assert "Boîte de réception (environnement local)" in inbox.text
    assert "dossier n°42 &lt;urgent&gt; — été" in inbox.text
    assert "<urgent>" not in inbox.text
    assert f'href="/messages/{stored["id"]}"' in inbox.text
    assert f"{PORTEUR}, {BESSII}" in inbox.text

    assert "Votre dossier a bien été reçu." in detail.text
    assert "<urgent>" not in detail.text
    assert "<script>" not in detail.text
    assert "<iframe sandbox" in detail.text

    assert "<strong>reçu</strong>" in html_body.text
    assert html_body.headers["content-security-policy"].startswith("sandbox")


async def test_an_unknown_message_is_a_french_404(mailbox: RunningMailbox) -> None:
    async with web(mailbox) as client:
        page = await client.get("/messages/999")
        api = await client.get("/api/messages/999")

    assert page.status_code == 404
    assert "introuvable" in page.text
    assert api.status_code == 404


async def test_delete_clears_the_mailbox(mailbox: RunningMailbox) -> None:
    await send(mailbox.smtp_port, french_message())

    async with web(mailbox) as client:
        cleared = await client.delete("/api/messages")
        remaining = (await client.get("/api/messages")).json()
        inbox = await client.get("/")

    assert cleared.json() == {"deleted": 1}
    assert remaining == []
    assert "Aucun message reçu" in inbox.text


async def test_messages_survive_a_restart_on_the_same_database(tmp_path: Path) -> None:
    db_path = tmp_path / "mailbox.sqlite3"
    first = await start_mailbox(HOST, 0, HOST, 0, db_path)
    try:
        await send(first.smtp_port, french_message())
    finally:
        await first.close()

    # The second life goes through the long-running entry point and stops on cancellation.
    smtp_port, web_port = free_port(HOST), free_port(HOST)
    task = asyncio.create_task(run_mailbox(HOST, smtp_port, HOST, web_port, db_path))
    try:
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{web_port}", timeout=10) as client:
            listed = await _when_ready(client, "/api/messages")
            assert [m["subject"] for m in listed.json()] == [SUBJECT]
            await send(smtp_port, french_message("Deuxième vie"))
            assert len((await client.get("/api/messages")).json()) == 2
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert task.cancelled()


async def test_the_fault_knob_rejects_the_next_transactions_with_451(
    mailbox: RunningMailbox,
) -> None:
    async with web(mailbox) as client:
        armed = await client.post("/api/faults", json={"reject_count": 1})
        assert armed.json() == {"reject_count": 1, "refused_recipients": []}

        with pytest.raises(aiosmtplib.SMTPDataError) as rejected:
            await send(mailbox.smtp_port, french_message("Premier essai"))
        assert rejected.value.code == 451
        assert "4.3.0 Try again later" in rejected.value.message

        await send(mailbox.smtp_port, french_message("Second essai"))

        listed = (await client.get("/api/messages")).json()
        assert [m["subject"] for m in listed] == ["Second essai"]
        assert (await client.get("/api/faults")).json() == {"reject_count": 0,
                                                            "refused_recipients": []}
        assert (await client.post("/api/faults", json={"reject_count": -1})).status_code == 422


async def _when_ready(client: httpx.AsyncClient, path: str) -> httpx.Response:
    for _ in range(200):
        with contextlib.suppress(httpx.TransportError):
            return await client.get(path)
        await asyncio.sleep(0.025)
    raise AssertionError(f"the mailbox never answered {path}")
