"""Production refuses to start unsafe, and says which setting: every environment but an explicit
``dev`` or ``test`` is production; every empty, placeholder or weak secret, the development
sign-in, a local mail sink, an ``http://`` public URL and plaintext Temporal are refused; the
API, the worker and the CLI exit with the message. Forged session cookies get nothing."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer
from pydantic import ValidationError
from temporalio.service import TLSConfig

from api.app import create_app
from api.temporal import tls_config
from core.db.engine import Database, create_engine, create_schema
from core.settings import DEV_CODEC_KEY, DEV_PLACEHOLDER, TemporalSettings
from tests.security.production import UNSAFE_SECRETS, settings_from, strong_env

ROOT = Path(__file__).resolve().parents[2]
# Every value that is not exactly "dev" or "test": production.
NON_DEV = [None, "prod", "production", "staging", "preprod", "PROD", "", "development"]
SECRETS = ["PTCE_AGENTS__SESSION_SECRET", "PTCE_CRA_PAGES__SECRET", "PTCE_API__WEBHOOK_SECRET"]


def _refusal(env: dict[str, str | None], monkeypatch: pytest.MonkeyPatch) -> str:
    with pytest.raises(ValidationError) as refused:
        settings_from(env, monkeypatch)  # type: ignore[arg-type]
    return str(refused.value)


def test_the_strong_configuration_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from(strong_env(), monkeypatch)
    assert not settings.lenient and not settings.dev_sign_in
    assert settings.codec.allow_plaintext is False


@pytest.mark.parametrize("environment", NON_DEV)
def test_every_environment_but_dev_and_test_is_production(
        environment: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    env: dict[str, str | None] = {**strong_env(), "PTCE_ENVIRONMENT": environment}
    env["PTCE_AGENTS__SESSION_SECRET"] = DEV_PLACEHOLDER
    assert "PTCE_AGENTS__SESSION_SECRET is a placeholder" in _refusal(env, monkeypatch)


@pytest.mark.parametrize("name", SECRETS)
@pytest.mark.parametrize("kind", list(UNSAFE_SECRETS))
def test_each_unsafe_secret_is_refused_and_named(name: str, kind: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    message = _refusal({**strong_env(), name: UNSAFE_SECRETS[kind]}, monkeypatch)
    assert name in message
    assert sum(s in message for s in SECRETS) == 1  # only the one that is unsafe


@pytest.mark.parametrize(("name", "value", "said"), [
    ("PTCE_LINKS__KEYS", '["k1:x"]', "PTCE_LINKS__KEYS: key 'k1' is shorter than 32"),
    ("PTCE_LINKS__KEYS", f'["k1:{DEV_PLACEHOLDER}"]', "PTCE_LINKS__KEYS: key 'k1' is a placeholder"),
    ("PTCE_LINKS__KEYS", '["k2:mgWBSzmoNPO20D9RWSkzcpue8qwmns9ihp0L83mrt8w","k1:weak"]',
     "key 'k1' is shorter"),
    ("PTCE_CODEC__KEYS", f'["dev:{DEV_CODEC_KEY}"]', "key 'dev' is the development key"),
    ("PTCE_CODEC__KEYS", '["k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]',
     "PTCE_CODEC__KEYS: key 'k1' is too predictable"),
    ("PTCE_CODEC__ALLOW_PLAINTEXT", "true", "PTCE_CODEC__ALLOW_PLAINTEXT is refused"),
    ("PTCE_PLATFORM__TOKEN", "", "PTCE_PLATFORM__TOKEN is empty"),
    ("PTCE_AGENTS__OIDC__ISSUER", "", "the development sign-in is refused"),
    ("PTCE_AGENTS__OIDC__ISSUER", "http://auth.example.gouv.fr", "ISSUER must be an https://"),
    ("PTCE_AGENTS__OIDC__CLIENT_SECRET", "", "PTCE_AGENTS__OIDC__CLIENT_SECRET is empty"),
    ("PTCE_AGENTS__OIDC__CLIENT_ID", "change-me", "PTCE_AGENTS__OIDC__CLIENT_ID is empty or a"),
    ("PTCE_SMTP__USERNAME", "ptce", "PTCE_SMTP__PASSWORD is empty"),
    ("PTCE_API__PUBLIC_BASE_URL", "http://ptce.example.gouv.fr", "PUBLIC_BASE_URL must be an https"),
    ("PTCE_SMTP__HOST", "mailpit", "local mail sink"),
    ("PTCE_SMTP__HOST", "127.0.0.1", "local mail sink"),
    ("PTCE_SMTP__HOST", "localhost", "local mail sink"),
    ("PTCE_SMTP__PORT", "1025", "local mail sink"),
    ("PTCE_TEMPORAL__TLS", "false", "PTCE_TEMPORAL__TLS"),
    ("PTCE_API__TRUSTED_PROXIES", '["*"]', "PTCE_API__TRUSTED_PROXIES"),
    ("PTCE_API__METRICS_TOKEN", "metrics", "PTCE_API__METRICS_TOKEN is shorter"),
])
def test_each_unsafe_setting_is_refused_and_named(name: str, value: str, said: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert said in _refusal({**strong_env(), name: value}, monkeypatch)


def test_plaintext_temporal_only_when_declared_private(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**strong_env(), "PTCE_TEMPORAL__TLS": "false"}
    assert settings_from({**env, "PTCE_TEMPORAL__PLAINTEXT_NETWORK": "true"}, monkeypatch)
    assert settings_from({**env, "PTCE_TEMPORAL__API_KEY": secrets.token_urlsafe(24)},
                         monkeypatch).temporal.secured


def test_temporal_tls_mtls_and_api_key_settings(tmp_path: Path) -> None:
    assert tls_config(TemporalSettings()) is False
    assert tls_config(TemporalSettings(api_key="key")) is True  # type: ignore[arg-type]
    ca, cert, key = (tmp_path / n for n in ("ca.pem", "client.pem", "client.key"))
    for path in (ca, cert, key):
        path.write_bytes(f"-----{path.name}-----".encode())
    built = tls_config(TemporalSettings(tls=True, server_root_ca_cert=ca, client_cert=cert,
                                        client_key=key, server_name="temporal.internal"))
    assert isinstance(built, TLSConfig)
    assert (built.server_root_ca_cert, built.client_cert, built.client_private_key,
            built.domain) == (b"-----ca.pem-----", b"-----client.pem-----",
                              b"-----client.key-----", "temporal.internal")
    with pytest.raises(ValueError, match="CLIENT_KEY go together"):
        tls_config(TemporalSettings(client_cert=cert))


def _forge(secret: str, **claims: object) -> str:
    session = {"sid": "forged", "sub": "mallory", "email": "m@example.org", "name": "Mallory",
               "role": "admin", "source": "oidc", "csrf": "c", **claims}
    return URLSafeTimedSerializer(secret, salt="ptce-agent-session").dumps(session)


@pytest.mark.parametrize("environment", [e for e in NON_DEV if e is not None][:4])
async def test_forged_sessions_get_nothing_in_production(
        environment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # With an empty, weak or development session secret, production does not even start...
    for unsafe in ("", "weak", DEV_PLACEHOLDER, "a" * 64):
        env = {**strong_env(), "PTCE_ENVIRONMENT": environment,
               "PTCE_AGENTS__SESSION_SECRET": unsafe}
        assert "PTCE_AGENTS__SESSION_SECRET" in _refusal(env, monkeypatch)
    # ... and with its real secret, cookies signed with those (or with the dev one) are refused.
    settings = settings_from({**strong_env(), "PTCE_ENVIRONMENT": environment}, monkeypatch)
    db = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ptce.db'}"))
    await create_schema(db.engine)
    app = create_app(settings, temporal=SimpleNamespace(), db=db)  # type: ignore[arg-type]
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url=settings.api.public_base_url) as http:
            for secret in ("", "weak", DEV_PLACEHOLDER, "a" * 64):
                for source in ("oidc", "dev"):
                    http.cookies.set("ptce_agent", _forge(secret, source=source),
                                     domain="ptce.example.gouv.fr")
                    assert (await http.get("/api/session")).status_code == 401
                    assert (await http.get("/api/admin/agents")).status_code == 401
            # The development sign-in does not exist there.
            dev = await http.post("/connexion/dev", data={"name": "M", "email": "m@example.org",
                                                          "role": "admin"})
            assert dev.status_code == 403 and "ptce_agent" not in dev.headers.get("set-cookie", "")
    finally:
        await db.dispose()


def _run(*args: str, env: dict[str, str | None]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PTCE_")}
    clean |= {k: v for k, v in env.items() if v is not None}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=60, check=False)


COMMANDS = [("api",), ("worker",), ("admin", "stuck", "--as", "chef@finances.gouv.fr"),
            ("temporal", "setup"), ("db", "upgrade")]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_the_api_the_worker_and_the_cli_refuse_to_start_naming_each_setting(
        command: tuple[str, ...]) -> None:
    # No environment at all: production with every development default, all named at once.
    done = _run(*command, env={})
    assert done.returncode == 2, done.stderr
    for name in (*SECRETS, "PTCE_LINKS__KEYS", "PTCE_CODEC__KEYS", "PTCE_PLATFORM__TOKEN",
                 "PTCE_AGENTS__OIDC__ISSUER", "PTCE_API__PUBLIC_BASE_URL", "PTCE_SMTP__HOST",
                 "PTCE_TEMPORAL__TLS"):
        assert name in done.stderr, (name, done.stderr)
    assert "Traceback" not in done.stderr
    # One weak setting in an otherwise safe production: that one, and only that one.
    weak = _run(*command, env={**strong_env(), "PTCE_LINKS__KEYS": '["k1:x"]'})
    assert weak.returncode == 2 and "PTCE_LINKS__KEYS: key 'k1'" in weak.stderr
    assert "PTCE_AGENTS__SESSION_SECRET" not in weak.stderr


def test_ptce_dev_needs_the_development_environment() -> None:
    done = _run("dev", env={"PTCE_ENVIRONMENT": "test"})
    assert done.returncode == 2 and "PTCE_ENVIRONMENT=dev" in done.stderr


EXAMPLE = ROOT / "deploy" / "ptce.env.example"
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|KEYS|API_KEY")


def _example() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in EXAMPLE.read_text().splitlines()
             if line.strip() and not line.startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def test_the_example_env_file_holds_no_empty_secret_and_refuses_until_filled(
        monkeypatch: pytest.MonkeyPatch) -> None:
    example = _example()
    secrets_named = [k for k in example if SECRET_NAME.search(k)]
    assert len(secrets_named) >= 9 and all(example[k] for k in secrets_named)
    # As copied: the codec key is not even a key yet, and says which setting.
    assert "PTCE_CODEC__KEYS" in _run("worker", env={**example}).stderr
    # With a codec key: every other value left to change is named.
    message = _refusal({**example, "PTCE_CODEC__KEYS": strong_env()["PTCE_CODEC__KEYS"],
                        "PTCE_SMTP_HOST": "smtp.example.gouv.fr"}, monkeypatch)
    for name in (*SECRETS, "PTCE_LINKS__KEYS", "PTCE_PLATFORM__TOKEN", "PTCE_API__METRICS_TOKEN",
                 "PTCE_AGENTS__OIDC__CLIENT_SECRET", "PTCE_AGENTS__OIDC__CLIENT_ID",
                 "PTCE_SMTP__PASSWORD", "PTCE_PLATFORM__INSTRUCTEUR_ID"):
        assert name in message, name
    # Filled in, it starts.
    filled = {**example, **strong_env(), "PTCE_SMTP__PASSWORD": secrets.token_urlsafe(16),
              "PTCE_PLATFORM__INSTRUCTEUR_ID": "SW5zdHJ1Y3RldXItNDI=",
              "PTCE_API__METRICS_TOKEN": secrets.token_urlsafe(32)}
    assert not settings_from(filled, monkeypatch).lenient


def test_the_readme_commands_make_secrets_that_production_accepts() -> None:
    from core import hardening

    made = subprocess.run([sys.executable, "-c", "import secrets; print(secrets.token_urlsafe(32))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert hardening.weakness(made) is None
    key = subprocess.run([sys.executable, "-c", "from core.codec import new_key; print(new_key())"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    assert hardening.codec_key_weakness(key, DEV_CODEC_KEY) is None
