"""``make run`` only: the platform's own emails to applicants, handed to the local mailbox so
they show beside the service's (the platform sends them from its own address)."""

from __future__ import annotations

import logging
import smtplib
import threading
from email.message import EmailMessage

from standins.platform.store import PlatformStore

logger = logging.getLogger(__name__)
SENDER = "demarche.numerique.gouv.fr <ne-pas-repondre@demarche.numerique.gouv.fr>"


def forward_pending(store: PlatformStore, host: str, port: int) -> int:
    """Sends every email not handed over yet; returns how many went."""
    sent = 0
    for notification in store.notifications():
        if notification.forwarded:
            continue
        message = EmailMessage()
        message["From"], message["To"] = SENDER, notification.to_email
        message["Subject"] = notification.subject
        message["X-Standin-Platform"] = notification.kind
        message.set_content(notification.body)
        with smtplib.SMTP(host, port, timeout=5) as smtp:
            smtp.send_message(message)
        with store.write() as tx:
            tx.connection.execute("UPDATE notifications SET forwarded = 1 WHERE id = ?",
                                  (notification.id,))
        sent += 1
    return sent


def start_forwarding(store: PlatformStore, host: str, port: int, every: float = 2.0) -> None:
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            try:
                forward_pending(store, host, port)
            except OSError as error:  # the mailbox is down: the next round tries again
                logger.warning("platform emails not forwarded: %s", error)

    threading.Thread(target=loop, name="platform-emails", daemon=True).start()
