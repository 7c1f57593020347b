"""Service settings: one cached, nested, validated object read from the environment.

Variables use the ``PTCE_`` prefix and ``__`` between groups, e.g. ``PTCE_SMTP__PORT=1025``;
``DATABASE_URL`` is accepted as is for the database.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.codec import parse_keys
from core.domain.policy import Policy

DEV_PLACEHOLDER = "dev-only-change-me"
# A well-formed AES-256 key derived from the placeholder: the embedded default, refused in prod.
DEV_CODEC_KEY = base64.b64encode(hashlib.sha256(DEV_PLACEHOLDER.encode()).digest()).decode()


class TemporalSettings(BaseModel):
    address: str = "127.0.0.1:7233"
    namespace: str = "default"
    task_queue: str = "ptce-dossiers"
    ui_url: str = "http://127.0.0.1:8233"
    # Workflows a worker keeps in memory (sticky cache). Memory grows with it, not with the
    # number of waiting dossiers: an evicted one is replayed from its history when it next moves
    # (bench/RESULTS.md: about 0.4 MiB per cached dossier on top of ~150 MiB).
    max_cached_workflows: int = Field(default=400, ge=0)


class CodecSettings(BaseModel):
    """Keys of the Temporal payload codec (AES-256-GCM), newest first: ``id:base64key``.

    The newest encrypts; all decrypt. ``python -c "from core.codec import new_key; print(new_key())"``
    makes one.
    """

    keys: list[SecretStr] = Field(default_factory=lambda: [SecretStr(f"dev:{DEV_CODEC_KEY}")])

    @field_validator("keys")
    @classmethod
    def _well_formed(cls, keys: list[SecretStr]) -> list[SecretStr]:
        parse_keys(keys)  # refuses a malformed, short or duplicated key at start-up
        return keys


class TelemetrySettings(BaseModel):
    """Logs, traces and metrics."""

    json_logs: bool = False  # one JSON object per line (production); text for a terminal
    log_level: str = "INFO"
    otlp_endpoint: str = ""  # e.g. http://otel-collector:4318 ; empty: no trace export
    service_name: str = "ptce"
    metrics_bind_address: str = ""  # worker's SDK + business metrics, e.g. 0.0.0.0:9464


class DatabaseSettings(BaseModel):
    url: str = ""  # empty: SQLite file under var_dir


class SmtpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 1025
    use_tls: bool = False
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "AMI PTCE <ne-pas-repondre@ptce.localhost>"
    bessii_mailbox: str = "bessii@dgtresor.localhost"
    admins_mailbox: str = "admin-ptce@dgtresor.localhost"  # alerts: blocked dossiers
    timeout_seconds: float = 10.0


# The platform stand-in's own values: refused in production (each names its setting).
STANDIN_PLATFORM: dict[str, str | int] = {
    "graphql_url": "http://127.0.0.1:8100/api/v2/graphql",
    "instructeur_id": "SW5zdHJ1Y3RldXItMQ==",  # base64("Instructeur-1")
    "demarche_number": 1001,
    "annotation_opinions_id": "Q2hhbXAtMjAx",  # base64("Champ-201")
    "annotation_stage_id": "Q2hhbXAtMjAy",  # base64("Champ-202")
}


class PlatformSettings(BaseModel):
    """The démarches-simplifiées GraphQL API (or its local stand-in)."""

    graphql_url: str = str(STANDIN_PLATFORM["graphql_url"])
    token: SecretStr = SecretStr(DEV_PLACEHOLDER)
    token_file: Path | None = None  # read at each request when set: rotation without restart
    token_expires_on: date | None = None  # as the platform's token page shows it
    instructeur_id: str = str(STANDIN_PLATFORM["instructeur_id"])
    demarche_number: int = int(STANDIN_PLATFORM["demarche_number"])
    mapping_file: Path | None = None  # None: the demo démarche shipped in core/data
    annotation_opinions_id: str = str(STANDIN_PLATFORM["annotation_opinions_id"])
    annotation_stage_id: str = str(STANDIN_PLATFORM["annotation_stage_id"])
    timeout_seconds: float = 30.0
    poll_interval_seconds: int = 30
    # ``ptce platform check`` when the worker starts: None means in production only.
    check_at_start: bool | None = None


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"
    webhook_secret: SecretStr = SecretStr(DEV_PLACEHOLDER)


class LinkSettings(BaseModel):
    """Signing keys for the CRA members' personal links, newest first: ``id:secret`` pairs."""

    keys: list[SecretStr] = Field(default_factory=lambda: [SecretStr(f"k1:{DEV_PLACEHOLDER}")])
    read_grace_days: int = 14


class CraPageSettings(BaseModel):
    """The CRA members' answer pages: form protection, rate limits, front-end assets."""

    secret: SecretStr = SecretStr(DEV_PLACEHOLDER)  # CSRF tokens and client address hashes
    rate_limit_window_seconds: float = Field(default=60.0, gt=0)
    rate_limit_per_token: int = Field(default=30, gt=0)  # requests per window for one link
    rate_limit_per_client: int = Field(default=120, gt=0)  # requests per window per address
    max_form_bytes: int = Field(default=256 * 1024, gt=0)
    dsfr_dist: Path | None = None  # None: node_modules/@gouvfr/dsfr/dist beside the code
    # The DSFR's charts (BESSII's synthesis); None: node_modules/@gouvfr/dsfr-chart/dist/DSFRChart
    dsfr_chart_dist: Path | None = None


class OidcSettings(BaseModel):
    """The agents' OpenID Connect provider (ProConnect in production); empty issuer: none."""

    issuer: str = ""  # e.g. https://auth.agentconnect.gouv.fr/api/v2
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    redirect_url: str = ""  # empty: <public_base_url>/connexion/retour
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "given_name",
                                                       "usual_name"])
    token_auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_post"
    timeout_seconds: float = 10.0


class AgentPageSettings(BaseModel):
    """BESSII's pages: sign-in, session cookie, the first administrators."""

    session_secret: SecretStr = SecretStr(DEV_PLACEHOLDER)
    session_max_age_seconds: int = Field(default=8 * 3600, gt=0)
    bootstrap_admins: list[str] = Field(default_factory=list)  # emails, admins whatever the table
    oidc: OidcSettings = OidcSettings()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PTCE_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    environment: Literal["dev", "test", "prod"] = "dev"
    var_dir: Path = Path("var")
    database_url: str = Field(
        default="", validation_alias=AliasChoices("DATABASE_URL", "PTCE_DATABASE_URL")
    )
    temporal: TemporalSettings = TemporalSettings()
    smtp: SmtpSettings = SmtpSettings()
    platform: PlatformSettings = PlatformSettings()
    api: ApiSettings = ApiSettings()
    links: LinkSettings = LinkSettings()
    cra_pages: CraPageSettings = CraPageSettings()
    agents: AgentPageSettings = AgentPageSettings()
    policy: Policy = Policy()
    codec: CodecSettings = CodecSettings()
    telemetry: TelemetrySettings = TelemetrySettings()

    @model_validator(mode="after")
    def _refuse_placeholders_outside_dev(self) -> Settings:
        if self.environment == "prod":
            secrets = [self.platform.token, self.api.webhook_secret, *self.links.keys,
                       *self.codec.keys]
            if any(DEV_PLACEHOLDER in s.get_secret_value() or DEV_CODEC_KEY in s.get_secret_value()
                   for s in secrets):
                raise ValueError("placeholder secrets are refused when PTCE_ENVIRONMENT=prod")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_page_secret(self) -> Settings:
        if self.environment == "prod" and DEV_PLACEHOLDER in self.cra_pages.secret.get_secret_value():
            raise ValueError("placeholder secrets are refused when PTCE_ENVIRONMENT=prod")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_session_secret(self) -> Settings:
        if self.environment == "prod" and DEV_PLACEHOLDER in self.agents.session_secret.get_secret_value():
            raise ValueError("placeholder secrets are refused when PTCE_ENVIRONMENT=prod")
        return self

    @model_validator(mode="after")
    def _refuse_standin_platform_outside_dev(self) -> Settings:
        """The stand-in's ids would start a production worker that fails at its first mutation
        (or its last step): refused, naming the setting."""
        if self.environment != "prod":
            return self
        for name, value in STANDIN_PLATFORM.items():
            if getattr(self.platform, name) == value:
                raise ValueError(f"PTCE_PLATFORM__{name.upper()} is the platform stand-in's value "
                                 f"({value}): set the real démarche's when PTCE_ENVIRONMENT=prod")
        if self.platform.mapping_file is None:
            raise ValueError("PTCE_PLATFORM__MAPPING_FILE is not set: the demo démarche's champ "
                             "ids are refused when PTCE_ENVIRONMENT=prod")
        return self

    @property
    def dev_sign_in(self) -> bool:
        """The embedded default: no provider configured, on a developer's machine only."""
        return self.environment == "dev" and not self.agents.oidc.issuer

    @property
    def platform_poll_interval(self) -> timedelta:
        return timedelta(seconds=self.platform.poll_interval_seconds)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.var_dir / 'ptce.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
