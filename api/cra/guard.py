"""CSRF protection bound to the link, and the keyed hash of client addresses.

The form carries ``HMAC(secret, purpose + token)``: a form rendered for one link cannot be
posted to another, and nobody without the page can forge it. The token itself already is a
secret, so this mostly stops a page from another site posting on the member's behalf: hence
the Origin (or Referer) check as well, when the browser sends one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit

from pydantic import SecretStr

from core.links import CRA_OPINION

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


class FormGuard:
    def __init__(self, secret: SecretStr) -> None:
        self._key = secret.get_secret_value().encode()

    def _mac(self, message: str) -> bytes:
        return hmac.new(self._key, message.encode(), hashlib.sha256).digest()

    def csrf_token(self, link_token: str, purpose: str = CRA_OPINION) -> str:
        return base64.urlsafe_b64encode(self._mac(f"csrf\n{purpose}\n{link_token}")).decode().rstrip("=")

    def csrf_ok(self, link_token: str, submitted: str, purpose: str = CRA_OPINION) -> bool:
        return hmac.compare_digest(self.csrf_token(link_token, purpose).encode(), submitted.encode())

    @staticmethod
    def same_origin(origin: str | None, referer: str | None, allowed: Iterable[str]) -> bool:
        """False when the browser says the post comes from elsewhere; True when it says nothing."""
        claimed = origin if origin is not None else referer
        if claimed is None:
            return True
        source = origin_of(claimed)  # "null" (sandboxed or privacy-stripped) never matches
        return source is not None and source in {origin_of(a) for a in allowed}

    def client_hash(self, address: str) -> str:
        return self._mac(f"client\n{address}").hex()[:16]
