"""The SMTP side: accept every transaction and store it, unless a fault is pending."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from standins.mailbox.parsing import parse_message
from standins.mailbox.store import MailStore

logger = logging.getLogger(__name__)

TRY_AGAIN_LATER = "451 4.3.0 Try again later"
ACCEPTED = "250 2.0.0 Message accepted"


class MailboxHandler:
    """aiosmtpd handler: the default hooks accept every sender and recipient."""

    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        # Postfix's wording: the refusal names the address (what our failures must not keep).
        if address.lower() in await asyncio.to_thread(self.store.refused):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        # SQLite calls are short but blocking; keep them off the event loop.
        if await asyncio.to_thread(self.store.take_fault):
            logger.info("fault injected: rejecting message for %s", envelope.rcpt_tos)
            return TRY_AGAIN_LATER
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        incoming = parse_message(raw, envelope.mail_from, list(envelope.rcpt_tos))
        stored = await asyncio.to_thread(self.store.add, incoming)
        logger.info("stored message id=%s for %s", stored.id, stored.recipients)
        return ACCEPTED


def accept_any_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    """The application may be configured with SMTP credentials; any pair is fine here."""
    return AuthResult(success=True, auth_data=auth_data)


async def start_smtp_server(store: MailStore, host: str, port: int) -> asyncio.Server:
    """Listen on ``host:port`` (0 picks a free port) in the running event loop."""
    handler = MailboxHandler(store)
    loop = asyncio.get_running_loop()

    def protocol_factory() -> SMTP:
        return SMTP(
            handler,
            hostname="mailbox.localhost",
            ident="PTCE local mailbox",
            enable_SMTPUTF8=True,
            auth_require_tls=False,
            authenticator=accept_any_login,
            loop=loop,
        )

    return await loop.create_server(protocol_factory, host=host, port=port)
