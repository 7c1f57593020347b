"""Email activities: SMTP with an idempotency key, Message-ID derived from it.

Each recipient must be exactly one valid address (``core.addresses``): one that is not (two
addresses in the referent's field, a line break) is never written to. An SMTP refusal becomes
a failure that names the reply code, never the address the relay quoted back.
"""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import aiosmtplib
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.mail.models import CraLinkEmail, EmailRequest, SendResult
from activities.mail.render import render
from core.addresses import valid_recipients
from core.db.engine import Database
from core.db.repositories import SentEmailRepository
from core.links import LinkSigner
from core.settings import SmtpSettings

_tracer = trace.get_tracer("ptce.mail")


def _smtp_failure(exc: aiosmtplib.SMTPException) -> ApplicationError:
    """The relay's refusal without what it quoted (addresses): code and kind only. A 5xx is
    permanent (retrying cannot cure a refused recipient); the rest retries."""
    codes: list[int] = []
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        codes = [exc.code]
    permanent = bool(codes) and all(500 <= c < 600 for c in codes)
    shown = ", ".join(str(c) for c in sorted(set(codes))) or "no reply code"
    return ApplicationError(f"SMTP relay refused the message ({type(exc).__name__}, {shown})",
                            type="SmtpRefused" if permanent else "SmtpUnavailable",
                            non_retryable=permanent)


def message_id_for(key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<{digest}@ptce.localhost>"


class MailActivities:
    def __init__(self, smtp: SmtpSettings, db: Database, signer: LinkSigner, public_base_url: str):
        self._smtp = smtp
        self._db = db
        self._signer = signer
        self._base = public_base_url.rstrip("/")

    async def _deliver(self, request: EmailRequest) -> SendResult:
        message_id = message_id_for(request.key)
        async with self._db.unit_of_work() as session:
            if await SentEmailRepository(session).get(request.key) is not None:
                return SendResult(message_id=message_id, already_sent=True)
        subject, body = render(request.template, request.context)
        msg = EmailMessage()
        msg["From"] = self._smtp.sender
        asked = [*request.to, *([self._smtp.bessii_mailbox] if request.to_bessii else []),
                 *([self._smtp.admins_mailbox] if request.to_admins else [])]
        recipients = valid_recipients(asked)
        if len(recipients) < len(asked):
            activity.logger.warning("recipients refused: not one valid address each",
                                    extra={"template": request.template,
                                           "refused": len(asked) - len(recipients)})
        if not recipients:
            raise ApplicationError("email without a valid recipient", type="NoRecipient",
                                   non_retryable=True)
        msg["To"] = ", ".join(recipients)
        msg["Subject"] = subject
        msg["Message-ID"] = message_id
        msg["Date"] = formatdate(localtime=False)
        msg["X-PTCE-Template"] = request.template
        msg.set_content(body)
        password = self._smtp.password.get_secret_value() if self._smtp.password else None
        # aiosmtplib has no instrumentation: one client span per delivery (no address in it).
        with _tracer.start_as_current_span("smtp send", kind=SpanKind.CLIENT, attributes={
                "server.address": self._smtp.host, "server.port": self._smtp.port,
                "ptce.email.template": request.template, "ptce.email.recipients": len(recipients)}):
            try:
                await aiosmtplib.send(
                    msg, hostname=self._smtp.host, port=self._smtp.port,
                    use_tls=self._smtp.use_tls, username=self._smtp.username, password=password,
                    timeout=self._smtp.timeout_seconds,
                )
            except aiosmtplib.SMTPException as exc:
                raise _smtp_failure(exc) from None  # no cause: its message quotes addresses
        # The send happened: record it. If this commit fails the activity retries and the
        # message may go twice with the same Message-ID, which receivers deduplicate.
        async with self._db.unit_of_work() as session:
            SentEmailRepository(session).add(request.key, message_id, request.template,
                                             request.dossier_number)
        activity.logger.info("email sent", extra={"template": request.template,
                                                  "dossier": request.dossier_number})
        return SendResult(message_id=message_id, already_sent=False)

    async def deliver(self, request: EmailRequest) -> SendResult:
        """The same idempotent send, for other activities (an alert from inside an activity)."""
        return await self._deliver(request)

    @activity.defn(name="send_email")
    async def send_email(self, request: EmailRequest) -> SendResult:
        return await self._deliver(request)

    @activity.defn(name="send_cra_link_email")
    async def send_cra_link_email(self, request: CraLinkEmail) -> SendResult:
        claims = self._signer.claims_for(dossier=request.dossier_number, region=request.member.region,
                                         member=request.member.id, round=request.round,
                                         deadline=request.deadline)
        link = f"{self._base}/cra/avis/{self._signer.sign(claims)}"
        context: dict[str, Any] = {**request.context, "member": request.member.model_dump(),
                                   "link": link, "deadline": request.deadline}
        return await self._deliver(EmailRequest(
            key=request.key, template=request.template, to=[request.member.email],
            context=context, dossier_number=request.dossier_number,
        ))
