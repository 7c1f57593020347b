"""Instants as integer microseconds since the epoch (UTC), and their text forms.

The store keeps microseconds so ordering and cursors are exact; the API shows what the
platform shows: ``ISO8601DateTime`` with second precision in the Paris time zone
(graphql-ruby's default ``time_precision`` is 0 and the platform runs in ``Europe/Paris``).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_CURSOR_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$")

try:
    PARIS: tzinfo = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError:  # no tz database on this host: fall back to UTC
    PARIS = UTC


def wall_clock_us() -> int:
    return time.time_ns() // 1000


def from_us(instant_us: int) -> datetime:
    return _EPOCH + instant_us * _MICROSECOND


def to_us(moment: datetime) -> int:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=PARIS)
    return (aware - _EPOCH) // _MICROSECOND


def api_datetime(instant_us: int) -> str:
    """``2026-01-15T15:52:35+01:00``: how the platform serialises ``ISO8601DateTime``."""
    return from_us(instant_us).astimezone(PARIS).isoformat(timespec="seconds")


def api_datetime_or_none(instant_us: int | None) -> str | None:
    return None if instant_us is None else api_datetime(instant_us)


def parse_api_datetime(text: str) -> datetime:
    """Coerce an ``ISO8601DateTime`` input; a date alone means midnight, Paris time."""
    parsed = datetime.fromisoformat(text.strip())
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=PARIS)


def parse_api_date(text: str) -> date:
    return date.fromisoformat(text.strip())


def cursor_timestamp(instant_us: int) -> str:
    """``%Y-%m-%dT%H:%M:%S.%NZ`` (nanoseconds, UTC), as in the platform's cursors."""
    return from_us(instant_us).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def parse_cursor_timestamp(text: str) -> int | None:
    match = _CURSOR_TIMESTAMP.match(text)
    if match is None:
        return None
    whole = datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC)
    fraction_us = int((match.group(2) or "0").ljust(9, "0")[:6])
    return to_us(whole) + fraction_us
