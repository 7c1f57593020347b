"""Temporal client construction shared by the API, the worker and the CLI."""

from __future__ import annotations

from temporalio.client import Client, Interceptor
from temporalio.converter import DataConverter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from core.codec import data_converter
from core.settings import CodecSettings, TelemetrySettings, TemporalSettings, get_settings
from workflows.metrics import CRA_ANSWER_BUCKETS, CRA_ANSWER_DELAY
from workflows.tracing import RequestTracingInterceptor


def converter(codec: CodecSettings | None = None) -> DataConverter:
    """Pydantic payloads encrypted with the codec keys (``PTCE_CODEC__KEYS``)."""
    return data_converter((codec or get_settings().codec).keys)


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


async def connect(settings: TemporalSettings, codec: CodecSettings | None = None,
                  runtime: Runtime | None = None) -> Client:
    return await Client.connect(settings.address, namespace=settings.namespace,
                                data_converter=converter(codec), interceptors=interceptors(),
                                runtime=runtime)
