"""Service settings: one cached, nested, validated object read from the environment.

Variables use the ``PTCE_`` prefix and ``__`` between groups, e.g. ``PTCE_SMTP__PORT=1025``;
``DATABASE_URL`` is accepted as is for the database.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from core import hardening
from core.codec import parse_keys
from core.domain.policy import Policy
from core.timeouts import HTTP_TIMEOUT, SMTP_TIMEOUT

# The embedded development secrets (refused in production): defined with the checks.
DEV_PLACEHOLDER, DEV_CODEC_KEY = hardening.DEV_PLACEHOLDER, hardening.DEV_CODEC_KEY


class TemporalSettings(BaseModel):
    address: str = "127.0.0.1:7233"
    # The service's own namespace (``ptce temporal setup`` creates it; ``ptce dev`` too), never
    # the shared ``default``: its retention is ours to choose.
    namespace: str = "ptce"
    # How long Temporal keeps a closed dossier's history (reset, replay, the UI read it): years.
    retention_days: int = Field(default=3650, ge=1)
    # Worker Deployment versioning: set (the image's release or commit), the worker polls as
    # version ``<deployment_name>.<build_id>`` and takes only the tasks Temporal routes to that
    # version (``ptce temporal set-current-version`` makes it the current one); empty (dev,
    # tests): an unversioned worker. README, « Versions et déploiements ».
    build_id: str = ""
    deployment_name: str = "ptce"
    task_queue: str = "ptce-dossiers"
    ui_url: str = "http://127.0.0.1:8233"
    # Workflows a worker keeps in memory (sticky cache). Memory grows with it, not with the
    # number of waiting dossiers: an evicted one is replayed from its history when it next moves
    # (bench/RESULTS.md: about 0.4 MiB per cached dossier on top of ~150 MiB). 300 keeps a
    # worker under 400 MB with 10 000 dossiers waiting on their CRA.
    max_cached_workflows: int = Field(default=300, ge=0)
    # Transport security of the gRPC connection (worker, API, CLI). ``tls`` alone: server
    # certificate checked against the system roots, or ``server_root_ca_cert``; mTLS: also
    # ``client_cert`` and ``client_key`` (PEM files). ``api_key``: Temporal Cloud or a
    # frontend that authorises by key (TLS on by default then).
    tls: bool = False
    server_root_ca_cert: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    server_name: str = ""  # TLS server name when it differs from the address's host
    api_key: SecretStr | None = None
    # Production refuses a plaintext connection unless this says the network is private.
    plaintext_network: bool = False

    @property
    def secured(self) -> bool:
        return bool(self.tls or self.api_key or self.client_cert or self.server_root_ca_cert)


class CodecSettings(BaseModel):
    """Keys of the Temporal payload codec (AES-256-GCM), newest first: ``id:base64key``.

    The newest encrypts; all decrypt. ``python -c "from core.codec import new_key; print(new_key())"``
    makes one.
    """

    keys: list[SecretStr] = Field(default_factory=lambda: [SecretStr(f"dev:{DEV_CODEC_KEY}")])
    # Payloads that are not encrypted (histories written before the codec): read in dev and
    # test only. Unset: decided by the environment (``Settings``); alone: refused.
    allow_plaintext: bool | None = None

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
    timeout_seconds: float = Field(default=10.0, gt=0, le=SMTP_TIMEOUT.total_seconds())


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
    # A whole request, at most HTTP_TIMEOUT: the activities' attempts are sized on it.
    timeout_seconds: float = Field(default=HTTP_TIMEOUT.total_seconds(), gt=0,
                                   le=HTTP_TIMEOUT.total_seconds())
    poll_interval_seconds: int = 30
    # ``ptce platform check`` when the worker starts: None means in production only.
    check_at_start: bool | None = None


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"
    webhook_secret: SecretStr = SecretStr(DEV_PLACEHOLDER)
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks): the client
    # address of a request is the proxy's peer otherwise, whatever the header says.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Host headers served besides the public URL's host (DNS rebinding): e.g. ``api`` for
    # Prometheus inside the Compose network. 127.0.0.1 and localhost are always served.
    allowed_hosts: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)  # any request, before it is read
    codec_max_body_bytes: int = Field(default=8 * 1024 * 1024, gt=0)  # the Temporal UI's batches
    # ``/metrics`` in production: ``Authorization: Bearer <token>``; unset: not served.
    metrics_token: SecretStr | None = None


class LinkSettings(BaseModel):
    """Signing keys for the CRA members' personal links, newest first: ``id:secret`` pairs."""

    keys: list[SecretStr] = Field(default_factory=lambda: [SecretStr(f"k1:{DEV_PLACEHOLDER}")])
    read_grace_days: int = 14
    # Links signed before HMAC-SHA256 tokens (itsdangerous, HMAC-SHA1): still honoured until
    # their own expiry (deadline + read grace), in canonical form only; false refuses them.
    accept_legacy: bool = True


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
    # An email is trusted (roles, bootstrap admins) only with ``email_verified: true``. True
    # here: the provider vouches for every email it sends without that claim (a federation of
    # administrations' accounts); an explicit ``email_verified: false`` is refused all the same.
    email_verified_by_provider: bool = False


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

    # Only "dev" and "test" are lenient, and only when set: anything else (or nothing) is
    # production, which refuses to start on an unsafe setting (``core.hardening``).
    environment: str = "prod"
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
    codec: CodecSettings = Field(default_factory=CodecSettings, validate_default=True)
    telemetry: TelemetrySettings = TelemetrySettings()

    @field_validator("environment")
    @classmethod
    def _normalised(cls, value: str) -> str:
        return value.strip().lower()

    @field_validator("codec")
    @classmethod
    def _plaintext_by_environment(cls, codec: CodecSettings, info: ValidationInfo) -> CodecSettings:
        if codec.allow_plaintext is None:
            lenient = hardening.lenient(str(info.data.get("environment", "prod")))
            return codec.model_copy(update={"allow_plaintext": lenient})
        return codec

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if not self.lenient:
            problems = hardening.production_problems(self)
            if problems:
                raise ValueError(
                    f"refusing to start in production (PTCE_ENVIRONMENT={self.environment!r}; "
                    "only 'dev' and 'test' are lenient): " + "; ".join(problems))
        return self

    @property
    def lenient(self) -> bool:
        return hardening.lenient(self.environment)

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
