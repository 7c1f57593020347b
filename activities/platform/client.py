"""A thin async GraphQL client for the démarches-simplifiées API v2.

Operations live in ``graphql/*.graphql`` beside this module and are validated against the
platform's schema in the tests. Transport failures are classified here once; activities turn
them into retryable or non-retryable Temporal errors.
"""

from __future__ import annotations

import time
from functools import cache
from pathlib import Path
from typing import Any

import httpx

OPERATIONS_DIR = Path(__file__).parent / "graphql"
_RETRYABLE_CODES = {"timeout", "internal_server_error"}
DEFAULT_RETRY_AFTER = 5.0


class PlatformError(Exception):
    """Base of the platform client's errors. Messages are the platform's own, for admins."""


class PlatformUnavailable(PlatformError):
    """5xx, timeout, network failure: retry with backoff."""


class PlatformRateLimited(PlatformError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after:g}s")
        self.retry_after = retry_after


class PlatformRejected(PlatformError):
    """A permanent refusal: 4xx, a top-level GraphQL error, or errors returned as data."""


@cache
def operation(name: str) -> str:
    return (OPERATIONS_DIR / f"{name}.graphql").read_text()


def _retry_after(response: httpx.Response, now: float | None = None) -> float:
    """Seconds to wait after a 429: ``Retry-After`` when sent, else until ``RateLimit-Reset``
    (an epoch), which is all the platform's own throttled responder sets; 5 s as a last resort.
    """
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        pass
    try:
        reset = float(response.headers["RateLimit-Reset"])
    except (KeyError, ValueError):
        return DEFAULT_RETRY_AFTER
    return min(max(0.0, reset - (time.time() if now is None else now)), 60.0)


class DsClient:
    def __init__(self, http: httpx.AsyncClient, url: str, token: str) -> None:
        self._http = http
        self._url = url
        self._headers = {"Authorization": f"Bearer {token}"}

    async def execute(self, name: str, variables: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._http.post(
                self._url, headers=self._headers,
                json={"query": operation(name), "variables": variables},
            )
        except httpx.TransportError as exc:
            raise PlatformUnavailable(f"{type(exc).__name__} calling the platform") from exc
        if response.status_code == 429:
            raise PlatformRateLimited(_retry_after(response))
        if response.status_code >= 500:
            raise PlatformUnavailable(f"platform answered HTTP {response.status_code}")
        try:
            body: dict[str, Any] = response.json()
        except ValueError as exc:
            raise PlatformRejected(f"HTTP {response.status_code}, body is not JSON") from exc
        errors = body.get("errors") or []
        if errors:
            codes = {(e.get("extensions") or {}).get("code") for e in errors}
            message = "; ".join(str(e.get("message")) for e in errors)
            if codes & _RETRYABLE_CODES:
                raise PlatformUnavailable(message)
            raise PlatformRejected(message)
        if response.status_code >= 400:
            raise PlatformRejected(f"platform answered HTTP {response.status_code}")
        data: dict[str, Any] = body.get("data") or {}
        return data

    async def mutate(self, name: str, field: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Runs a mutation; errors returned as data become ``PlatformRejected``."""
        data = await self.execute(name, {"input": payload})
        result: dict[str, Any] = data.get(field) or {}
        messages = [e["message"] for e in result.get("errors") or []]
        if messages:
            raise PlatformRejected("; ".join(messages))
        return result
