"""What production refuses to start with: each problem names the setting that causes it.

Only ``dev`` and ``test`` are lenient, and only when asked for (``PTCE_ENVIRONMENT``): any other
value, or none, is production. There every secret must be long and unpredictable, the
development sign-in and the local mail sink are refused, the public URL must be ``https://``,
and Temporal must be reached over TLS (or an API key) unless plaintext is explicitly declared.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import math
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from pydantic import SecretStr

if TYPE_CHECKING:
    from core.settings import Settings

DEV_PLACEHOLDER = "dev-only-change-me"
# A well-formed AES-256 key derived from the placeholder: the embedded default, refused in prod.
DEV_CODEC_KEY = base64.b64encode(hashlib.sha256(DEV_PLACEHOLDER.encode()).digest()).decode()

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


def production_problems(s: Settings) -> list[str]:
    """Every unsafe setting, each named by its environment variable."""
    problems = [
        *secret_problems("PTCE_AGENTS__SESSION_SECRET", s.agents.session_secret),
        *secret_problems("PTCE_CRA_PAGES__SECRET", s.cra_pages.secret),
        *secret_problems("PTCE_API__WEBHOOK_SECRET", s.api.webhook_secret),
        *keyed_problems("PTCE_LINKS__KEYS", s.links.keys),
    ]
    if s.api.metrics_token is not None:
        problems += secret_problems("PTCE_API__METRICS_TOKEN", s.api.metrics_token)
    for entry in s.codec.keys:
        key_id, _, encoded = entry.get_secret_value().partition(":")
        why = codec_key_weakness(encoded, DEV_CODEC_KEY)
        if why:
            problems.append(f"PTCE_CODEC__KEYS: key {key_id!r} {why} (generate one: "
                            "core.codec.new_key(), see the README, section Production)")
    if s.codec.allow_plaintext:
        problems.append("PTCE_CODEC__ALLOW_PLAINTEXT is refused: production reads encrypted "
                        "payloads only")
    if placeholder(s.platform.token.get_secret_value()):
        problems.append("PTCE_PLATFORM__TOKEN is empty or a placeholder")
    if s.smtp.username and placeholder(
            s.smtp.password.get_secret_value() if s.smtp.password else ""):
        problems.append("PTCE_SMTP__PASSWORD is empty or a placeholder")
    if s.temporal.api_key is not None and placeholder(s.temporal.api_key.get_secret_value()):
        problems.append("PTCE_TEMPORAL__API_KEY is empty or a placeholder")
    for name in ("instructeur_id", "annotation_opinions_id", "annotation_stage_id"):
        if placeholder(getattr(s.platform, name)):
            problems.append(f"PTCE_PLATFORM__{name.upper()} is empty or a placeholder")
    problems += _standin_platform(s)
    oidc = s.agents.oidc
    if oidc.issuer and placeholder(oidc.client_id):
        problems.append("PTCE_AGENTS__OIDC__CLIENT_ID is empty or a placeholder")
    if not oidc.issuer:
        problems.append("PTCE_AGENTS__OIDC__ISSUER is empty: the development sign-in is refused "
                        "in production")
    elif not https(oidc.issuer):
        problems.append("PTCE_AGENTS__OIDC__ISSUER must be an https:// URL")
    if oidc.issuer and placeholder(oidc.client_secret.get_secret_value()):
        problems.append("PTCE_AGENTS__OIDC__CLIENT_SECRET is empty or a placeholder")
    if oidc.redirect_url and not https(oidc.redirect_url):
        problems.append("PTCE_AGENTS__OIDC__REDIRECT_URL must be an https:// URL")
    if not https(s.api.public_base_url):
        problems.append("PTCE_API__PUBLIC_BASE_URL must be an https:// URL")
    if local_mail_relay(s.smtp.host, s.smtp.port):
        problems.append(f"PTCE_SMTP__HOST / PTCE_SMTP__PORT ({s.smtp.host}:{s.smtp.port}) is a "
                        "local mail sink (Mailpit or a relay on this host): set the real relay")
    for proxy in s.api.trusted_proxies:
        if not ip_or_network(proxy):
            problems.append(f"PTCE_API__TRUSTED_PROXIES: {proxy!r} is not an address or network "
                            "(a wildcard would let anyone choose their client address)")
    if not s.temporal.secured and not s.temporal.plaintext_network:
        problems.append("PTCE_TEMPORAL__TLS (or PTCE_TEMPORAL__API_KEY, client certificates) "
                        "is not set: a plaintext Temporal connection needs "
                        "PTCE_TEMPORAL__PLAINTEXT_NETWORK=true, for a private network only")
    return problems


def _standin_platform(s: Settings) -> list[str]:
    """The stand-in's ids would start a production worker that fails at its first mutation
    (or its last step)."""
    from core.settings import STANDIN_PLATFORM  # defined with the settings' defaults

    problems = [f"PTCE_PLATFORM__{name.upper()} is the platform stand-in's value ({value}): set "
                "the real démarche's" for name, value in STANDIN_PLATFORM.items()
                if getattr(s.platform, name) == value]
    if s.platform.mapping_file is None:
        problems.append("PTCE_PLATFORM__MAPPING_FILE is not set: the demo démarche's champ ids "
                        "are refused in production")
    return problems
