"""The request's platform, for the routes: they are built once per process (FastAPI's route
set-up cost 40 ms per app, and the tests make one app per stack), and each app (a test's stack,
the stand-in's process) hands its own state to them in the request's scope (``app.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from standins.platform.context import Platform
from standins.platform.rate_limit import RateLimiter


async def _platform(request: Request) -> Platform:  # async: no thread hop for a lookup
    platform: Platform = request.state.platform
    return platform


async def _limiter(request: Request) -> RateLimiter | None:
    limiter: RateLimiter | None = request.state.rate_limiter
    return limiter


PlatformDep = Annotated[Platform, Depends(_platform)]
LimiterDep = Annotated[RateLimiter | None, Depends(_limiter)]
