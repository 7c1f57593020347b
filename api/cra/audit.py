"""The audit trail of the answer pages: one row per view or submission, whatever happened.

Rows name the member, dossier, region and round when the link was authentic, a fingerprint of
the token (never the token) and a keyed hash of the client address (never the address).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from core.db.engine import Database
from core.db.repositories import CraLinkAccessRepository
from core.links import LinkClaims, fingerprint, redact

log = logging.getLogger("ptce.api.cra")


class Action(StrEnum):
    VIEW = "view"
    SUBMIT = "submit"


class Outcome(StrEnum):
    SHOWN = "shown"  # form or confirmation
    SHOWN_CLOSED = "shown_closed"  # read-only page after the deadline
    ACCEPTED = "accepted"  # the workflow recorded the opinion
    UNCHANGED = "unchanged"  # identical to the recorded opinion: nothing sent
    INVALID_FORM = "invalid_form"
    CLOSED = "closed"  # submitted after the close


@dataclass
class Visit:
    """One request on a link; the page errors and the route fill in what happened."""

    action: Action
    token: str
    client_hash: str
    claims: LinkClaims | None = None
    outcome: str = "error"


class Auditor:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, visit: Visit) -> None:
        claims = visit.claims
        async with self._db.unit_of_work() as session:
            CraLinkAccessRepository(session).add(
                at=datetime.now(UTC), action=visit.action.value, outcome=visit.outcome,
                member_id=claims.member if claims else None,
                dossier_number=claims.dossier if claims else None,
                region=claims.region if claims else None, round=claims.round if claims else None,
                token_fingerprint=fingerprint(visit.token), client_hash=visit.client_hash)
        log.info("cra link %s: %s", visit.action.value, visit.outcome,
                 extra={"token": redact(visit.token), "dossier": claims.dossier if claims else None})
