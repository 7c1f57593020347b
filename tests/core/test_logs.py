"""Logs are JSON lines carrying the trace id, and never carry an email, a phone or a token."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider

from core.settings import TelemetrySettings
from core.telemetry.logs import handler


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    out = io.StringIO()
    logger = logging.getLogger("ptce.test.logs")
    logger.addHandler(handler(TelemetrySettings(json_logs=True), out))
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield out
    logger.handlers.clear()


def _lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_line_inside_a_span_is_json_with_its_trace_id(captured: io.StringIO) -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("request") as span:
        logging.getLogger("ptce.test.logs").info("dossier %s received", 42,
                                                 extra={"dossier": 42})
        expected = f"{span.get_span_context().trace_id:032x}"
    [line] = _lines(captured)
    assert line["message"] == "dossier 42 received" and line["dossier"] == 42
    assert line["level"] == "INFO" and line["logger"] == "ptce.test.logs" and line["timestamp"]
    assert line["trace_id"] == expected and line["span_id"]


def test_no_trace_id_outside_a_span(captured: io.StringIO) -> None:
    logging.getLogger("ptce.test.logs").info("idle")
    [line] = _lines(captured)
    assert "trace_id" not in line


def test_emails_phones_and_link_tokens_are_redacted(captured: io.StringIO) -> None:
    log = logging.getLogger("ptce.test.logs")
    log.info("mail sent to %s", "maelle.legoff@broceliande-coopere.example",
             extra={"to": "cra.53@region.example", "phone": "06 12 34 56 78",
                    "nested": {"members": ["jeanne@cress.example"]}})
    log.info('127.0.0.1 - "GET /cra/avis/eyJhbGciOi.abc-123?x=1 HTTP/1.1" 200')
    log.info("callback %s", "/api?token=s3cr3t&page=2")
    try:
        raise ValueError("bad address jean@example.org")
    except ValueError:
        log.exception("failed")
    text = captured.getvalue()
    for secret in ("maelle", "cra.53@", "06 12 34", "eyJhbGciOi", "s3cr3t", "jean@", "jeanne@"):
        assert secret not in text, secret
    lines = _lines(captured)
    assert lines[0]["message"] == "mail sent to [redacted]" and lines[0]["to"] == "[redacted]"
    assert "/cra/avis/[redacted]?x=1" in str(lines[1]["message"])
    assert "page=2" in str(lines[2]["message"])


def test_configure_logging_routes_every_logger_through_one_redacting_handler() -> None:
    import io as _io

    from core.telemetry.logs import configure_logging

    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    out = _io.StringIO()
    try:
        configure_logging(TelemetrySettings(json_logs=True), out)
        configure_logging(TelemetrySettings(json_logs=True), out)  # idempotent: one handler
        logging.getLogger("uvicorn.access").info('1.2.3.4 - "GET /cra/avis/tok3n HTTP/1.1" 200')
        [line] = _lines(out)
        assert line["logger"] == "uvicorn.access" and "tok3n" not in str(line["message"])
    finally:
        root.handlers, root.level = before, level
