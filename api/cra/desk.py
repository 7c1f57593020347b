"""Admission of a visit on a personal link, with its audit row whatever happens.

Order: rate limits, signature and purpose, the member still active in the directory
(revocation takes effect at once), the member in the consultation's pair. Every refusal below
the rate limit is recorded, then shown as the same "lien invalide".

Rate limits: every request counts against its token; a request whose token is not authentic
also counts against its client address (the real one behind a trusted proxy, see
``api.hardening``). So junk from one address cannot lock genuine members out, even when they
all come through the same proxy, and guessing tokens stays slow.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from temporalio.client import Client

from api.cra.audit import Action, Auditor, Visit
from api.cra.consultation import Consultation, ConsultationGateway
from api.cra.dossier import DossierReader
from api.cra.errors import LinkExpired, LinkRefused, PageError, TooManyRequests
from api.cra.guard import FormGuard
from api.cra.pages import Pages
from api.cra.ratelimit import SlidingWindow
from core.db.engine import Database
from core.db.repositories import CraMemberRepository
from core.links import ExpiredLink, InvalidLink, LinkClaims, LinkSigner, fingerprint, redact
from core.settings import Settings
from workflows.payloads import ConsultationInput

log = logging.getLogger("ptce.api.cra")
MAX_TOKEN_LENGTH = 2048


@dataclass
class CraState:
    """What outlives requests: built once per application."""

    settings: Settings
    signer: LinkSigner
    guard: FormGuard
    pages: Pages
    per_token: SlidingWindow
    per_client: SlidingWindow
    inputs: dict[str, ConsultationInput]


@dataclass(frozen=True)
class Opened:
    visit: Visit
    claims: LinkClaims
    consultation: Consultation


class Desk:
    def __init__(self, state: CraState, client: Client, db: Database) -> None:
        self.state = state
        self.consultations = ConsultationGateway(client, state.inputs)
        self.dossiers = DossierReader(client, db)
        self._db = db
        self._auditor = Auditor(db)

    def _limit(self, token: str, address: str) -> None:
        wait = self.state.per_token.hit(fingerprint(token))
        if not wait and (len(token) > MAX_TOKEN_LENGTH or not self.state.signer.authentic(token)):
            wait = self.state.per_client.hit(self.state.guard.client_hash(address))
        if wait:
            log.warning("cra link rate limited", extra={"token": redact(token)})
            raise TooManyRequests(wait)

    @asynccontextmanager
    async def visit(self, token: str, address: str, action: Action) -> AsyncIterator[Opened]:
        """Admits the visit and records it on the way out (``visit.outcome``, or the error's)."""
        self._limit(token, address)
        visit = Visit(action=action, token=token, client_hash=self.state.guard.client_hash(address))
        try:
            claims = await self._admit(visit)
            consultation = await self.consultations.load(claims, datetime.now(UTC))
            yield Opened(visit, claims, consultation)
        except PageError as exc:
            visit.outcome = exc.outcome
            await self._auditor.record(visit)
            raise
        except Exception:
            visit.outcome = "error"
            await self._auditor.record(visit)
            raise
        await self._auditor.record(visit)

    async def _admit(self, visit: Visit) -> LinkClaims:
        if len(visit.token) > MAX_TOKEN_LENGTH:
            raise LinkRefused("token too long")
        try:
            claims = self.state.signer.verify(visit.token)
        except InvalidLink as exc:
            raise LinkRefused("invalid link") from exc
        except ExpiredLink as exc:
            visit.claims = exc.claims
            await self._check_member(exc.claims)
            raise LinkExpired("expired link", claims=exc.claims) from exc
        visit.claims = claims
        await self._check_member(claims)
        return claims

    async def _check_member(self, claims: LinkClaims) -> None:
        async with self._db.unit_of_work() as session:
            member = await CraMemberRepository(session).get(claims.member)
        if member is None or not member.active or member.region != claims.region:
            raise LinkRefused("member revoked or unknown", outcome="revoked")


def desk(request: Request) -> Desk:
    return Desk(request.app.state.cra, request.app.state.temporal, request.app.state.db)


CraDesk = Annotated[Desk, Depends(desk)]
