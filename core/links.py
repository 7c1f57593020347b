"""Signed personal links for CRA members: HMAC-SHA256 tokens with key ids for rotation.

A token carries the dossier, the region, the member, the consultation round, the purpose and
its expiry. It is minted in the email activity, never in workflow code, so neither secrets nor
tokens reach workflow history.
"""

from __future__ import annotations

from datetime import UTC, datetime

from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel, SecretStr, ValidationError

_SALT = "ptce.cra-link.v1"


class InvalidLink(Exception):
    """Tampered, unknown key or malformed: reveal nothing to the visitor."""


class ExpiredLink(Exception):
    def __init__(self, claims: LinkClaims) -> None:
        super().__init__("link expired")
        self.claims = claims


class LinkClaims(BaseModel):
    dossier: int
    region: str
    member: str
    round: int = 1
    purpose: str = "cra_opinion"
    exp: datetime


class LinkSigner:
    def __init__(self, keys: list[SecretStr]) -> None:
        if not keys:
            raise ValueError("at least one signing key is required")
        parsed = [k.get_secret_value().split(":", 1) for k in keys]
        if any(len(p) != 2 or not p[0] or not p[1] for p in parsed):
            raise ValueError("signing keys are 'id:secret' pairs")
        self._current = parsed[0][0]
        self._serializers = {kid: URLSafeSerializer(secret, salt=_SALT) for kid, secret in parsed}

    def sign(self, claims: LinkClaims) -> str:
        body = self._serializers[self._current].dumps(claims.model_dump(mode="json"))
        return f"{self._current}.{body}"

    def verify(self, token: str, now: datetime | None = None) -> LinkClaims:
        kid, _, body = token.partition(".")
        serializer = self._serializers.get(kid)
        if serializer is None or not body:
            raise InvalidLink
        try:
            claims = LinkClaims.model_validate(serializer.loads(body))
        except (BadSignature, ValidationError) as exc:
            raise InvalidLink from exc
        if (now or datetime.now(UTC)) >= claims.exp:
            raise ExpiredLink(claims)
        return claims


def redact(token: str) -> str:
    """What logs may show of a token."""
    return f"{token[:6]}…" if len(token) > 6 else "…"
