"""Telemetry of the HTTP API: server spans whose URLs never carry a link token or an email."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.trace import Span

from core.telemetry.logs import redact

_URL_ATTRIBUTES = ("http.target", "http.url", "url.path", "url.full", "url.query")


def _redact_url(span: Span, scope: dict[str, Any]) -> None:
    if not span.is_recording():
        return
    attributes = getattr(span, "attributes", None) or {}
    for key in _URL_ATTRIBUTES:
        value = attributes.get(key)
        if isinstance(value, str):
            span.set_attribute(key, redact(value))


def instrument_app(app: FastAPI) -> None:
    FastAPIInstrumentor.instrument_app(app, server_request_hook=_redact_url,
                                       excluded_urls="healthz,metrics")
