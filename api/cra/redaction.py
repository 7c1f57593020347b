"""Keeps personal link tokens out of the access log: uvicorn logs every request path."""

from __future__ import annotations

import logging
import re

from core.links import redact

_TOKEN_IN_PATH = re.compile(r"(/cra/avis/)([^/?\s\"]+)")


class RedactLinkTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_PATH.sub(lambda m: m.group(1) + redact(m.group(2)), a)
                if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = _TOKEN_IN_PATH.sub(lambda m: m.group(1) + redact(m.group(2)), record.msg)
        return True


def install_redaction(logger_names: tuple[str, ...] = ("uvicorn.access", "uvicorn.error")) -> None:
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactLinkTokens) for f in logger.filters):
            logger.addFilter(RedactLinkTokens())
