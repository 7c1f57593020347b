"""Signed personal links for CRA members: HMAC-SHA256 tokens with key ids for rotation.

A token carries the dossier, the region, the member, the consultation round, the purpose, the
consultation deadline (answers are accepted until then) and its expiry: the deadline plus a
grace during which the member may still read the page. It is minted in the email activity,
never in workflow code, so neither secrets nor tokens reach workflow history.

Format ``v2.<key id>.<payload>.<signature>``: the payload is the claims as canonical JSON
(sorted keys, no spaces) in unpadded base64url, the signature HMAC-SHA256 over the salt, the
key id and the payload, unpadded base64url. Only the canonical spelling verifies: no trailing
junk, no padding, no alternative base64 of the same bytes.

Links sent before this format (``<key id>.<itsdangerous body>``, HMAC-SHA1) keep working until
their own expiry (at most the deadline plus the read grace), in the exact form we minted them
(``LinkSettings.accept_legacy``; false refuses them at once). No new one is ever minted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel, SecretStr, ValidationError

from core.settings import LinkSettings

_SALT = "ptce.cra-link.v1"  # the legacy tokens' itsdangerous salt
_SALT_V2 = b"ptce.cra-link.v2"
_V2 = re.compile(r"v2\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{2,2048})\.([A-Za-z0-9_-]{43})")
CRA_OPINION = "cra_opinion"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes | None:
    """The bytes of a canonical unpadded base64url text, else None."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if _b64(raw) == text else None


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


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
    def __init__(self, keys: list[SecretStr], read_grace: timedelta = timedelta(0),
                 accept_legacy: bool = True) -> None:
        if not keys:
            raise ValueError("at least one signing key is required")
        parsed = [k.get_secret_value().split(":", 1) for k in keys]
        if any(len(p) != 2 or not p[0] or not p[1] for p in parsed):
            raise ValueError("signing keys are 'id:secret' pairs")
        if any(not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", p[0]) for p in parsed):
            raise ValueError("signing key ids are letters, digits, '-' or '_' (32 at most)")
        self._current = parsed[0][0]
        self._secrets = {kid: secret.encode() for kid, secret in parsed}
        self._legacy = {kid: URLSafeSerializer(secret, salt=_SALT) for kid, secret in parsed
                        } if accept_legacy else {}
        self.read_grace = read_grace

    @classmethod
    def from_settings(cls, links: LinkSettings) -> LinkSigner:
        return cls(links.keys, timedelta(days=links.read_grace_days), links.accept_legacy)

    def claims_for(self, *, dossier: int, region: str, member: str, round: int,
                   deadline: datetime) -> LinkClaims:
        """A CRA member's claims: answers until ``deadline``, reading until the grace ends."""
        return LinkClaims(dossier=dossier, region=region, member=member, round=round,
                          deadline=deadline, exp=deadline + self.read_grace)

    def _mac(self, kid: str, payload: str) -> str:
        message = _SALT_V2 + b"\n" + kid.encode() + b"." + payload.encode()
        return _b64(hmac.new(self._secrets[kid], message, hashlib.sha256).digest())

    def sign(self, claims: LinkClaims) -> str:
        payload = _b64(_canonical(claims.model_dump(mode="json")))
        return f"v2.{self._current}.{payload}.{self._mac(self._current, payload)}"

    def _v2_claims(self, token: str) -> dict[str, Any]:
        match = _V2.fullmatch(token)
        if match is None or match.group(1) not in self._secrets:
            raise InvalidLink
        kid, payload, signature = match.groups()
        if not hmac.compare_digest(self._mac(kid, payload), signature):
            raise InvalidLink
        raw = _unb64(payload)
        try:
            found = json.loads(raw) if raw is not None else None
        except ValueError as exc:
            raise InvalidLink from exc
        if not isinstance(found, dict) or _canonical(found) != raw:
            raise InvalidLink
        return found

    def _legacy_claims(self, token: str) -> Any:
        kid, _, body = token.partition(".")
        serializer = self._legacy.get(kid)
        if serializer is None or not body:
            raise InvalidLink
        try:
            found = serializer.loads(body)
        except BadSignature as exc:
            raise InvalidLink from exc
        if serializer.dumps(found) != body:  # exactly as minted: no junk, no re-encoding
            raise InvalidLink
        return found

    def authentic(self, token: str) -> bool:
        """The signature holds (expired or not): what the rate limit of junk counts on."""
        try:
            self._verified(token)
        except InvalidLink:
            return False
        return True

    def _verified(self, token: str) -> LinkClaims:
        raw = self._v2_claims(token) if token.startswith("v2.") else self._legacy_claims(token)
        try:
            return LinkClaims.model_validate(raw)
        except ValidationError as exc:
            raise InvalidLink from exc

    def verify(self, token: str, now: datetime | None = None,
               purpose: str = CRA_OPINION) -> LinkClaims:
        """The claims of an authentic token for ``purpose``; ExpiredLink only for those."""
        claims = self._verified(token)
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
