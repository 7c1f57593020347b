"""Signed personal links for CRA members: HMAC-SHA256 tokens with key ids for rotation.

A token carries the dossier, the region, the member, the consultation round, the purpose, the
consultation deadline (answers are accepted until then) and its expiry: the deadline plus a
grace during which the member may still read the page. It is minted in the email activity,
never in workflow code, so neither secrets nor tokens reach workflow history.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel, SecretStr, ValidationError

from core.settings import LinkSettings

_SALT = "ptce.cra-link.v1"
CRA_OPINION = "cra_opinion"


class InvalidLink(Exception):
    """Tampered, unknown key, malformed or minted for another purpose: reveal nothing."""


class ExpiredLink(Exception):
    def __init__(self, claims: LinkClaims) -> None:
        super().__init__("link expired")
        self.claims = claims


class LinkClaims(BaseModel):
    dossier: int
    region: str
    member: str
    round: int = 1
    purpose: str = CRA_OPINION
    deadline: datetime | None = None  # None on links minted before the read grace existed
    exp: datetime

    @property
    def answer_deadline(self) -> datetime:
        return self.deadline or self.exp


class LinkSigner:
    def __init__(self, keys: list[SecretStr], read_grace: timedelta = timedelta(0)) -> None:
        if not keys:
            raise ValueError("at least one signing key is required")
        parsed = [k.get_secret_value().split(":", 1) for k in keys]
        if any(len(p) != 2 or not p[0] or not p[1] for p in parsed):
            raise ValueError("signing keys are 'id:secret' pairs")
        self._current = parsed[0][0]
        self._serializers = {kid: URLSafeSerializer(secret, salt=_SALT) for kid, secret in parsed}
        self.read_grace = read_grace

    @classmethod
    def from_settings(cls, links: LinkSettings) -> LinkSigner:
        return cls(links.keys, timedelta(days=links.read_grace_days))

    def claims_for(self, *, dossier: int, region: str, member: str, round: int,
                   deadline: datetime) -> LinkClaims:
        """A CRA member's claims: answers until ``deadline``, reading until the grace ends."""
        return LinkClaims(dossier=dossier, region=region, member=member, round=round,
                          deadline=deadline, exp=deadline + self.read_grace)

    def sign(self, claims: LinkClaims) -> str:
        body = self._serializers[self._current].dumps(claims.model_dump(mode="json"))
        return f"{self._current}.{body}"

    def verify(self, token: str, now: datetime | None = None,
               purpose: str = CRA_OPINION) -> LinkClaims:
        """The claims of an authentic token for ``purpose``; ExpiredLink only for those."""
        kid, _, body = token.partition(".")
        serializer = self._serializers.get(kid)
        if serializer is None or not body:
            raise InvalidLink
        try:
            claims = LinkClaims.model_validate(serializer.loads(body))
        except (BadSignature, ValidationError) as exc:
            raise InvalidLink from exc
        if claims.purpose != purpose:
            raise InvalidLink
        if (now or datetime.now(UTC)) >= claims.exp:
            raise ExpiredLink(claims)
        return claims


def redact(token: str) -> str:
    """What logs may show of a token."""
    return f"{token[:6]}…" if len(token) > 6 else "…"


def fingerprint(token: str) -> str:
    """A stable, non-reversible reference to a token for audit rows (never the token)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]
