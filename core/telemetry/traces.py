"""Traces: the process's tracer provider, and instrumentation of its database and HTTP clients.

One trace follows a dossier: the Temporal client and worker carry the context through workflow
and activity headers (``TracingInterceptor``, wired where the client is built); the platform's
HTTP calls and the SQL statements of an activity become child spans of that activity. Spans
are exported by OTLP/HTTP when ``PTCE_TELEMETRY__OTLP_ENDPOINT`` is set, dropped otherwise.
Span attributes never hold payloads: SQL statements keep their placeholders, URLs are redacted.
"""

from __future__ import annotations

import httpx
from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from sqlalchemy.ext.asyncio import AsyncEngine

from core.settings import TelemetrySettings


def tracer_provider(settings: TelemetrySettings, *processors: SpanProcessor) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: settings.service_name}))
    if settings.otlp_endpoint:
        endpoint = settings.otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    for processor in processors:
        provider.add_span_processor(processor)
    return provider


def configure_tracing(settings: TelemetrySettings, *processors: SpanProcessor) -> TracerProvider:
    """Sets the process-wide provider. OpenTelemetry allows one per process: a second call
    (a CLI command run in-process, a test) adds its processors to the first one."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        for processor in processors:
            current.add_span_processor(processor)
        return current
    provider = tracer_provider(settings, *processors)
    trace.set_tracer_provider(provider)
    return provider


def instrument_engine(engine: AsyncEngine) -> None:
    """SQL spans for one engine (statements with placeholders, never the bound values)."""
    if getattr(engine.sync_engine, "_ptce_traced", False):
        return
    tracer = trace.get_tracer("ptce.sql")
    usage = metrics.get_meter("ptce.sql").create_up_down_counter(
        "db.client.connections.usage", unit="connections")
    EngineTracer(tracer, engine.sync_engine, usage)  # type: ignore[no-untyped-call]
    engine.sync_engine._ptce_traced = True  # type: ignore[attr-defined]


def instrument_http(client: httpx.AsyncClient) -> None:
    """Client spans for one HTTP client, whatever its transport (the tests' ASGI transport too)."""
    if not getattr(client, "_is_instrumented_by_opentelemetry", False):
        HTTPXClientInstrumentor.instrument_client(client)
