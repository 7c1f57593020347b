"""A production configuration that passes every check, to break one setting at a time."""

from __future__ import annotations

import secrets
from typing import Any

from core.codec import new_key
from core.settings import Settings

UNSAFE_SECRETS = {
    "empty": "",
    "development placeholder": "dev-only-change-me",
    "short": "x",
    "predictable": "a" * 64,
    "repeated": "abcd1234" * 8,
}


def strong_env() -> dict[str, str]:
    """Environment variables of a safe production: every secret fresh, TLS to Temporal."""
    return {
        "PTCE_ENVIRONMENT": "prod",
        "PTCE_AGENTS__SESSION_SECRET": secrets.token_urlsafe(32),
        "PTCE_CRA_PAGES__SECRET": secrets.token_urlsafe(32),
        "PTCE_API__WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "PTCE_LINKS__KEYS": f'["k2:{secrets.token_urlsafe(32)}"]',
        "PTCE_CODEC__KEYS": f'["c2:{new_key()}"]',
        "PTCE_PLATFORM__TOKEN": secrets.token_urlsafe(24),
        "PTCE_PLATFORM__GRAPHQL_URL": "https://demarche.numerique.gouv.fr/api/v2/graphql",
        "PTCE_PLATFORM__INSTRUCTEUR_ID": "SW5zdHJ1Y3RldXItNDI=",
        "PTCE_PLATFORM__DEMARCHE_NUMBER": "90210",
        "PTCE_PLATFORM__MAPPING_FILE": "/etc/ptce/demarche.json",
        "PTCE_PLATFORM__ANNOTATION_OPINIONS_ID": "Q2hhbXAtOTAx",
        "PTCE_PLATFORM__ANNOTATION_STAGE_ID": "Q2hhbXAtOTAy",
        "PTCE_API__PUBLIC_BASE_URL": "https://ptce.example.gouv.fr",
        "PTCE_AGENTS__OIDC__ISSUER": "https://auth.example.gouv.fr/api/v2",
        "PTCE_AGENTS__OIDC__CLIENT_ID": "ptce",
        "PTCE_AGENTS__OIDC__CLIENT_SECRET": secrets.token_urlsafe(24),
        "PTCE_SMTP__HOST": "smtp.example.gouv.fr",
        "PTCE_SMTP__PORT": "587",
        "PTCE_TEMPORAL__TLS": "true",
    }


def settings_from(env: dict[str, str], monkeypatch: Any) -> Settings:
    for name in [n for n in __import__("os").environ if n.startswith("PTCE_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]
