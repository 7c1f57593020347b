"""What production refuses to start with: each problem names the setting that causes it.

Only ``dev`` and ``test`` are lenient, and only when asked for (``PTCE_ENVIRONMENT``): any other
value, or none, is production. There every secret must be long and unpredictable, the
development sign-in and the local mail sink are refused, the public URL must be ``https://``,
and Temporal must be reached over TLS (or an API key) unless plaintext is explicitly declared.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
from collections import Counter
from collections.abc import Iterable
from typing import Protocol
from urllib.parse import urlsplit

from pydantic import SecretStr

LENIENT = frozenset({"dev", "test"})
MIN_SECRET_LENGTH = 32
MIN_SECRET_BITS = 128
# How to make one that passes (43 URL-safe characters, about 256 bits): no ";" in it, problems
# are listed with that separator.
GENERATE = "secrets.token_urlsafe(32), see the README, section Production"
PLACEHOLDERS = ("dev-only-change-me", "change-me", "changeme", "placeholder", "example", "secret")
_LOCAL_MAIL_HOSTS = {"localhost", "mailpit", "mailhog", "smtp4dev", "0.0.0.0", ""}


def lenient(environment: str) -> bool:
    return environment.strip().lower() in LENIENT


def estimated_bits(value: str) -> float:
    """Shannon estimate from the value's own character frequencies, times its length."""
    if not value:
        return 0.0
    counts = Counter(value)
    per_char = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return per_char * len(value)


def _repeats(value: str) -> bool:
    """``abcabcabc``: made of one shorter unit repeated."""
    return len(value) > 1 and (value + value).find(value, 1) < len(value)


def weakness(value: str) -> str | None:
    """Why a secret is not good enough for production, or None."""
    if not value.strip():
        return "is empty"
    lowered = value.lower()
    if any(p in lowered for p in PLACEHOLDERS):
        return "is a placeholder"
    if len(value) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    bits = estimated_bits(value)
    if bits < MIN_SECRET_BITS or _repeats(value):
        return f"is too predictable (about {bits:.0f} bits, {MIN_SECRET_BITS} needed)"
    return None


def placeholder(value: str | None) -> bool:
    """Empty or a placeholder: for secrets others issue (tokens, client secrets, passwords)."""
    lowered = (value or "").strip().lower()
    return not lowered or any(p in lowered for p in PLACEHOLDERS)


def codec_key_weakness(encoded: str, dev_key: str) -> str | None:
    """A 32-byte AES key in base64: not the development key, not a low-entropy pattern."""
    if encoded == dev_key:
        return "is the development key"
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        return "is not base64"
    if len(set(raw)) < 20:  # 32 random bytes hold about 30 distinct values
        return "is too predictable (not 32 random bytes)"
    return None


def ip_or_network(value: str) -> bool:
    try:
        ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return False
    return True


def https(url: str) -> bool:
    return urlsplit(url).scheme.lower() == "https"


def local_mail_relay(host: str, port: int) -> bool:
    name = host.strip().lower().rstrip(".")
    if name in _LOCAL_MAIL_HOSTS or name.endswith(".localhost") or port == 1025:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class _Keyed(Protocol):
    def get_secret_value(self) -> str: ...


def secret_problems(name: str, value: SecretStr | _Keyed | None) -> list[str]:
    why = weakness(value.get_secret_value() if value is not None else "")
    return [f"{name} {why} (generate one: {GENERATE})"] if why else []


def keyed_problems(name: str, entries: Iterable[SecretStr]) -> list[str]:
    """``id:secret`` entries (the CRA link keys)."""
    problems: list[str] = []
    for entry in entries:
        key_id, sep, secret = entry.get_secret_value().partition(":")
        if not sep or not key_id:
            problems.append(f"{name}: an entry is not 'id:secret'")
            continue
        why = weakness(secret)
        if why:
            problems.append(f"{name}: key {key_id!r} {why} (generate one: {GENERATE})")
    return problems
