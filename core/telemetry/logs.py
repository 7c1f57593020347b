"""Structured logs: one JSON object per line with the current trace id, personal data redacted.

``configure_logging`` is called once by each entry point (worker, API, CLI). The redaction runs
on the handler, so it covers every logger, ours and the libraries' (uvicorn's access log, httpx):
an email address, a phone number or a CRA member's link token never reaches the output.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

from core.settings import TelemetrySettings

REDACTED = "[redacted]"
_PATTERNS = [
    re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),  # email addresses
    re.compile(r"(?<=/cra/avis/)[^/\s?\"']+"),  # the CRA members' personal link tokens
    re.compile(r"(?<![\w/])(\+33 ?|0)[1-9]([ .-]?\d\d){4}(?!\d)"),  # French phone numbers
    re.compile(r"(?i)(?<=token=)[^&\s\"']+"),  # tokens in query strings
    re.compile(r"(?<=/webhooks/ds/)[^/\s?\"']+"),  # the platform webhook's secret
    re.compile(r"(?i)(?<=[?&]code=)[^&\s\"']+"),  # OIDC authorization codes
    re.compile(r"(?i)(?<=[?&]state=)[^&\s\"']+"),  # and their state
]
# Attributes every LogRecord has: whatever else a record carries came as ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime",
                                                                          "taskName"}


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


class RedactFilter(logging.Filter):
    """Rewrites the message (arguments merged in) and the string extras of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call must not raise where it logs
            message = f"{record.msg} {record.args}"
        record.msg = redact(message)
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD:
                setattr(record, key, _redact_value(value))
        return True


class TraceFilter(logging.Filter):
    """Adds ``trace_id`` and ``span_id`` (hex) from the current OpenTelemetry span, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        record.trace_id = f"{context.trace_id:032x}" if context.is_valid else None
        record.span_id = f"{context.span_id:016x}" if context.is_valid else None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def handler(settings: TelemetrySettings, stream: Any = None) -> logging.Handler:
    out = logging.StreamHandler(stream or sys.stderr)
    out.setFormatter(JsonFormatter() if settings.json_logs else logging.Formatter(TEXT_FORMAT))
    out.addFilter(TraceFilter())
    out.addFilter(RedactFilter())
    return out


def configure_logging(settings: TelemetrySettings, stream: Any = None) -> None:
    """The root logger writes through one redacting handler; library loggers propagate to it."""
    root = logging.getLogger()
    # Replaces plain console handlers (``basicConfig``'s, a previous call's); keeps others
    # (e.g. a test runner's capture handlers, which subclass StreamHandler).
    kept = [h for h in root.handlers if type(h) is not logging.StreamHandler]
    root.handlers = [*kept, handler(settings, stream)]
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "temporalio"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
        logger.setLevel(logging.NOTSET)  # the root's level (uvicorn sets its own after this)
