"""Temporal client construction shared by the API, the worker and the CLI."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

from temporalio.client import Client, Interceptor
from temporalio.converter import DataConverter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from core.codec import data_converter
from core.settings import CodecSettings, TelemetrySettings, TemporalSettings, get_settings
from workflows.metrics import CRA_ANSWER_BUCKETS, CRA_ANSWER_DELAY
from workflows.tracing import RequestTracingInterceptor

log = logging.getLogger(__name__)
T = TypeVar("T")

# A service process started while Temporal is down (a deploy, a restart of the server) waits for
# it: first retry after CONNECT_FIRST_WAIT seconds, then twice as long each time up to this.
CONNECT_FIRST_WAIT = 0.5
CONNECT_MAX_WAIT = 10.0
CONNECT_ALERT_AFTER = 60.0


def converter(codec: CodecSettings | None = None) -> DataConverter:
    """Pydantic payloads encrypted with the codec keys (``PTCE_CODEC__KEYS``); plaintext
    payloads read only where the settings allow it (dev and test)."""
    codec = codec or get_settings().codec
    return data_converter(codec.keys, allow_plaintext=bool(codec.allow_plaintext))


def interceptors() -> list[Interceptor]:
    """Trace context through workflow and activity headers; a client interceptor that is also
    a worker interceptor, so every worker built on the client traces too. Spans go to the
    process's tracer provider (``core.telemetry.traces``): none configured, nothing recorded.
    Updates run in the trace of the request that sent them (``workflows.tracing``)."""
    return [RequestTracingInterceptor()]


def metrics_runtime(telemetry: TelemetrySettings) -> Runtime | None:
    """The worker's Prometheus endpoint: SDK metrics (``temporal_…``) and the business metrics
    recorded with ``workflow.metric_meter()`` (``workflows.metrics``). One runtime per process:
    its HTTP server binds ``PTCE_TELEMETRY__METRICS_BIND_ADDRESS`` (9464 in docker-compose)."""
    if not telemetry.metrics_bind_address:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(
        bind_address=telemetry.metrics_bind_address, counters_total_suffix=True,
        histogram_bucket_overrides={CRA_ANSWER_DELAY: CRA_ANSWER_BUCKETS})))


def tls_config(settings: TemporalSettings) -> TLSConfig | bool:
    """TLS (and mTLS) from the settings; never logged: its repr holds the private key."""
    if not (settings.tls or settings.server_root_ca_cert or settings.client_cert):
        return bool(settings.api_key)  # an API key turns TLS on with the system roots
    if bool(settings.client_cert) != bool(settings.client_key):
        raise ValueError("PTCE_TEMPORAL__CLIENT_CERT and PTCE_TEMPORAL__CLIENT_KEY go together")
    return TLSConfig(
        server_root_ca_cert=settings.server_root_ca_cert.read_bytes()
        if settings.server_root_ca_cert else None,
        client_cert=settings.client_cert.read_bytes() if settings.client_cert else None,
        client_private_key=settings.client_key.read_bytes() if settings.client_key else None,
        domain=settings.server_name or None)


async def connect(settings: TemporalSettings, codec: CodecSettings | None = None,
                  runtime: Runtime | None = None) -> Client:
    api_key = settings.api_key.get_secret_value() if settings.api_key else None
    return await Client.connect(settings.address, namespace=settings.namespace,
                                data_converter=converter(codec), interceptors=interceptors(),
                                runtime=runtime, tls=tls_config(settings), api_key=api_key)


async def connect_waiting(settings: TemporalSettings, codec: CodecSettings | None = None,
                          runtime: Runtime | None = None) -> Client:
    """``connect`` for the worker and the API: a server that does not answer yet is waited for
    rather than the process exiting (a worker restarted while the server restarted used to die
    there). The CLI's commands use ``connect`` and fail at once: someone is there to read the
    error."""
    return await reachable(settings, partial(connect, settings, codec, runtime))


def _unreachable(exc: Exception) -> bool:
    """The SDK's plain RuntimeError "Failed client connect: …" on connecting; UNAVAILABLE ("tcp
    connect error") from a client whose server went away after it connected. Not a subclass of
    RuntimeError (a worker's refusal, WorkerRefused, is one: it must stop the worker)."""
    if isinstance(exc, RPCError):
        return exc.status is RPCStatusCode.UNAVAILABLE
    return type(exc) is RuntimeError


async def reachable(settings: TemporalSettings, call: Callable[[], Awaitable[T]]) -> T:
    """Runs ``call`` until Temporal answers it: the connection, then each call a service process
    makes once before it serves (a worker's key check and intake start: the server restarting
    just after the worker connected made it exit there). Each failed attempt is logged with the
    address: a warning at first, an error once the server has been unreachable for
    ``CONNECT_ALERT_AFTER`` seconds (what log alerting watches: a wrong address or certificate
    never cures itself). Any other error is raised at once."""
    loop = asyncio.get_running_loop()
    started, wait, attempt = loop.time(), CONNECT_FIRST_WAIT, 1
    while True:
        try:
            return await call()
        except (RuntimeError, RPCError) as exc:  # neither carries a secret
            if not _unreachable(exc):
                raise
            waited = loop.time() - started
            level = logging.ERROR if waited >= CONNECT_ALERT_AFTER else logging.WARNING
            log.log(level, "Temporal at %s not reachable for %.0f s (attempt %d), next attempt "
                    "in %.1f s: %s", settings.address, waited, attempt, wait, exc)
        await asyncio.sleep(wait)
        wait, attempt = min(wait * 2, CONNECT_MAX_WAIT), attempt + 1
