"""``ptce platform check`` and the worker's start-up check (production, or when asked)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx

from activities.platform.check import CheckReport, check_platform
from activities.platform.client import DsClient
from activities.platform.token import token_source
from core.mapping import load_mapping
from core.settings import Settings

log = logging.getLogger("ptce.worker")


async def run_check(settings: Settings) -> CheckReport:
    async with httpx.AsyncClient(timeout=settings.platform.timeout_seconds) as http:
        ds = DsClient(http, settings.platform.graphql_url, token_source(settings.platform))
        return await check_platform(ds, settings.platform,
                                    load_mapping(settings.platform.mapping_file),
                                    datetime.now(UTC).date(),
                                    strict=not settings.lenient)


def wanted_at_start(settings: Settings) -> bool:
    """In production, unless ``PTCE_PLATFORM__CHECK_AT_START=false``; elsewhere only if asked."""
    if settings.platform.check_at_start is not None:
        return settings.platform.check_at_start
    return not settings.lenient  # production: any environment but an explicit dev or test


async def check_before_start(settings: Settings) -> None:
    """Refuses to start (``SystemExit``, the report on the way) on a mismatch."""
    if not wanted_at_start(settings):
        return
    report = await run_check(settings)
    for line in report.lines():
        log.info(line)
    if not report.ok:
        raise SystemExit("the platform check failed: the worker does not start "
                         "(ptce platform check prints the report)\n" + "\n".join(report.lines()))
