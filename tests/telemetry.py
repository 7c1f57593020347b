"""The test process's tracer provider: every span in memory (OpenTelemetry allows one global
provider per process, so it is set once and tests filter by trace id)."""

from __future__ import annotations

from functools import cache

from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from core.settings import TelemetrySettings
from core.telemetry.traces import configure_tracing


@cache
def span_exporter() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    configure_tracing(TelemetrySettings(service_name="ptce-tests"), SimpleSpanProcessor(exporter))
    return exporter
