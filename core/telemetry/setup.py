"""The one call each process entry point (worker, API, CLI) makes: logs and traces."""

from __future__ import annotations

from core.settings import TelemetrySettings
from core.telemetry.logs import configure_logging
from core.telemetry.traces import configure_tracing


def configure(settings: TelemetrySettings) -> None:
    configure_logging(settings)
    configure_tracing(settings)
