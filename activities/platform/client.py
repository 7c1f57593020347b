"""A thin async GraphQL client for the démarches-simplifiées API v2.

Operations live in ``graphql/*.graphql`` beside this module and are validated against the
platform's schema in the tests. Failures are classified here once, by what cures them
(activities turn them into Temporal errors):

- time cures ``PlatformUnavailable`` (5xx, timeouts, network, a SIRET not fetched yet) and
  ``PlatformRateLimited``;
- a person on the platform or in our settings cures ``PlatformAuth`` (401 "Token expired", 403
  "forbidden network", a token refused or read-only: ``API::V2::BaseController`` #L67-L78,
  ``BaseMutation#ready?``) and ``PlatformConfiguration`` (an instructeur outside the dossier's
  groupe, an annotation id the démarche does not have): both are retried, with an alert;
- ``PlatformNotFound`` is a dossier the platform does not show (deleted by its applicant);
- ``PlatformRejected`` is a refusal retrying cannot cure (a decision already taken otherwise,
  bad data): the dossier parks until an admin resumes it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from core.timeouts import HTTP_TIMEOUT

OPERATIONS_DIR = Path(__file__).parent / "graphql"
_RETRYABLE_CODES = {"timeout", "internal_server_error"}
DEFAULT_RETRY_AFTER = 5.0
MIN_RESET_WAIT = 1.0


class PlatformError(Exception):
    """Base of the platform client's errors. Messages are the platform's own, for admins;
    ``cause`` names the kind of trouble (the admins get at most one alert per cause a day)."""

    cause = "platform"

    def __init__(self, message: str, cause: str | None = None) -> None:
        super().__init__(message)
        if cause is not None:
            self.cause = cause


class PlatformUnavailable(PlatformError):
    """5xx, timeout, network failure, a temporary refusal: retry with backoff."""

    cause = "unavailable"


class PlatformRateLimited(PlatformError):
    cause = "rate-limited"

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry after {retry_after:g}s")
        self.retry_after = retry_after


class PlatformAuth(PlatformError):
    """The token: expired, refused, from a forbidden network, read-only. Retried with an alert:
    renewing the token (or allowing the network) cures every dossier waiting on it."""

    cause = "token"


class PlatformConfiguration(PlatformError):
    """Our settings or the démarche's set-up: retried with an alert until fixed."""

    cause = "configuration"


class PlatformNotFound(PlatformError):
    """A top-level ``not_found``: for a dossier, deleted (or hidden) by its applicant."""

    cause = "not-found"


class PlatformRejected(PlatformError):
    """A refusal retrying cannot cure: a top-level error or a business refusal as data."""

    cause = "rejected"


# Errors as data that our configuration causes, or time cures (the platform's own words).
_CONFIGURATION = ("L’instructeur n’a pas les droits d’accès à ce dossier", "n’existe pas",
                  "n’est pas de type attendu")
READ_ONLY = "Le jeton utilisé est configuré seulement en lecture"
SIRET_DEGRADED = "Les informations du SIRET du dossier ne sont pas complètes"


def classify_refusal(message: str) -> PlatformError:
    """Errors returned as data by a mutation."""
    if READ_ONLY in message:
        return PlatformAuth(message, "token-read-only")
    if SIRET_DEGRADED in message:  # API Entreprise not fetched yet (dossier_accepter.rb#L34-L35)
        return PlatformUnavailable(message, "siret-degraded")
    if any(marker in message for marker in _CONFIGURATION):
        return PlatformConfiguration(message, "instructeur-access" if "instructeur" in message
                                     else "annotation")
    return PlatformRejected(message)


def _http_refusal(status: int, message: str) -> PlatformError:
    if status == 401:
        return PlatformAuth(message, "token-expired" if "expired" in message else "token")
    if "forbidden network" in message:
        return PlatformAuth(message, "forbidden-network")
    return PlatformAuth(message, "token")


@cache
def operation(name: str) -> str:
    return (OPERATIONS_DIR / f"{name}.graphql").read_text()


def _retry_after(response: httpx.Response, now: float | None = None) -> float:
    """Seconds to wait after a 429: ``Retry-After`` when sent, else until ``RateLimit-Reset``
    (an epoch), which is all the platform's own throttled responder sets; 5 s as a last resort.

    Until the reset, one second at least: the reset is a whole second of the platform's clock
    (Rack::Attack's window end), so a reset less than a second away, or a clock of ours ahead of
    the platform's, would retry at once into the same window, and Rack::Attack counts the
    throttled requests too (the run once asked again after 0.56 s).
    """
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        pass
    try:
        reset = float(response.headers["RateLimit-Reset"])
    except (KeyError, ValueError):
        return DEFAULT_RETRY_AFTER
    return min(max(MIN_RESET_WAIT, reset - (time.time() if now is None else now)), 60.0)


def _constant(token: str) -> Callable[[], str]:
    return lambda: token


class DsClient:
    """``token``: the token itself, or a function giving it at each request (a token file
    re-read when it changes, so a rotated token is picked up without a restart)."""

    def __init__(self, http: httpx.AsyncClient, url: str, token: str | Callable[[], str],
                 timeout: float = HTTP_TIMEOUT.total_seconds()) -> None:
        self._http = http
        self._url = url
        self._token: Callable[[], str] = token if callable(token) else _constant(token)
        # The whole request, connect to last byte (httpx's timeout bounds each read only):
        # the activities' attempts are sized on it (core/timeouts.py).
        self._timeout = min(timeout, HTTP_TIMEOUT.total_seconds())

    async def execute(self, name: str, variables: dict[str, Any]) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._http.post(
                    self._url, headers={"Authorization": f"Bearer {self._token()}"},
                    json={"query": operation(name), "variables": variables},
                )
        except httpx.TransportError as exc:
            raise PlatformUnavailable(f"{type(exc).__name__} calling the platform") from exc
        except TimeoutError as exc:
            raise PlatformUnavailable(
                f"the platform did not answer within {self._timeout:g}s") from exc
        if response.status_code == 429:
            raise PlatformRateLimited(_retry_after(response))
        if response.status_code >= 500:
            raise PlatformUnavailable(f"platform answered HTTP {response.status_code}")
        try:
            body: dict[str, Any] = response.json()
        except ValueError as exc:
            if response.status_code in (401, 403):
                raise _http_refusal(response.status_code, f"HTTP {response.status_code}") from exc
            raise PlatformRejected(f"HTTP {response.status_code}, body is not JSON") from exc
        errors = body.get("errors") or []
        message = "; ".join(str(e.get("message")) for e in errors)
        if response.status_code in (401, 403):
            raise _http_refusal(response.status_code, message or f"HTTP {response.status_code}")
        if errors:
            codes = {(e.get("extensions") or {}).get("code") for e in errors}
            if codes & _RETRYABLE_CODES:
                raise PlatformUnavailable(message)
            if codes & {"unauthorized", "forbidden"}:  # a démarche the token does not reach
                raise PlatformAuth(message, "token-scope")
            if codes == {"not_found"}:
                raise PlatformNotFound(message)
            raise PlatformRejected(message)
        if response.status_code >= 400:
            raise PlatformRejected(f"platform answered HTTP {response.status_code}")
        data: dict[str, Any] = body.get("data") or {}
        return data

    async def mutate(self, name: str, field: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Runs a mutation; errors returned as data are classified (``classify_refusal``)."""
        data = await self.execute(name, {"input": payload})
        result: dict[str, Any] = data.get(field) or {}
        messages = [e["message"] for e in result.get("errors") or []]
        if messages:
            raise classify_refusal("; ".join(messages))
        return result
