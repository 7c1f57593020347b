"""Turn the raw bytes of an SMTP transaction into the fields the mailbox shows."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A received message, decoded, before it is stored."""

    message_id: str
    sender: str
    recipients: list[str]
    subject: str
    text: str
    html: str | None
    raw: bytes


def parse_message(raw: bytes, mail_from: str | None, rcpt_tos: list[str]) -> IncomingMessage:
    """Decode headers (RFC 2047) and pick the text and HTML parts of ``raw``.

    The envelope wins for recipients (Bcc included); the From header wins for the
    sender because that is what a human reader expects to see.
    """
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)  # guaranteed by policy.default
    return IncomingMessage(
        message_id=_header(message, "Message-ID"),
        sender=_header(message, "From") or (mail_from or ""),
        recipients=list(rcpt_tos),
        subject=_header(message, "Subject"),
        text=_body(message, "plain") or "",
        html=_body(message, "html"),
        raw=raw,
    )


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a malformed header must not lose the message
        logger.warning("could not decode header %s", name, exc_info=True)
        return ""
    return "" if value is None else str(value).strip()


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # unknown charset, broken transfer encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return None
    # SMTP carries CRLF line endings; readers and tests expect plain newlines.
    return content.replace("\r\n", "\n")
