"""The API's outer walls, before any route or authentication runs.

- Client address: ``X-Forwarded-For`` is believed only from ``PTCE_API__TRUSTED_PROXIES``
  (uvicorn's own ``ProxyHeadersMiddleware``: the rightmost address that is not a trusted proxy);
  from anyone else the TCP peer is the client, whatever the header says.
- Host: only the public URL's host, the loopback names and ``PTCE_API__ALLOWED_HOSTS`` are
  served (DNS rebinding: a page of another site whose name resolves to our address).
- Body size: refused above ``PTCE_API__MAX_BODY_BYTES`` (the codec endpoint's own, larger cap
  for the Temporal UI's batches) before anything parses it, declared or streamed.
- Spans: the URLs recorded in server spans never carry a link token or an email.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.trace import Span
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from core.settings import Settings
from core.telemetry.logs import redact

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _json(status: int, code: str, message: str) -> tuple[dict[str, object], dict[str, object]]:
    body = json.dumps({"error": code, "message": message}, ensure_ascii=False).encode()
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json; charset=utf-8"),
                         (b"content-length", str(len(body)).encode())]}
    return start, {"type": "http.response.body", "body": body}


def allowed_origins(settings: Settings) -> list[str]:
    """Where our own forms are posted from: the public URL, never the request's Host header
    (a rebound name would pass); in dev and test, its loopback twins as well."""
    public = settings.api.public_base_url
    parts = urlsplit(public)
    if not settings.lenient or (parts.hostname or "") not in LOOPBACK:
        return [public]
    port = f":{parts.port}" if parts.port else ""
    return [public, *(f"{parts.scheme}://{h}{port}" for h in ("127.0.0.1", "localhost"))]


def served_hosts(settings: Settings) -> set[str]:
    public = urlsplit(settings.api.public_base_url).hostname or ""
    return {public.lower(), *LOOPBACK, *(h.lower() for h in settings.api.allowed_hosts)}


class HostGuard:
    def __init__(self, app: ASGIApp, hosts: set[str], reserved_test_names: bool) -> None:
        self.app, self.hosts, self.test_names = app, hosts, reserved_test_names

    def _served(self, scope: Scope) -> bool:
        raw = dict(scope.get("headers") or []).get(b"host", b"").decode("latin1").strip().lower()
        host = urlsplit(f"//{raw}").hostname or "" if raw else ""
        # ``.test`` (RFC 6761) never resolves in public DNS: no rebinding through it.
        return host in self.hosts or (self.test_names and host.endswith(".test"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._served(scope):
            start, body = _json(400, "host_refused", "Hôte non servi par ce service.")
            await send(start)
            await send(body)
            return
        await self.app(scope, receive, send)


class BodyLimit:
    """Reads the body itself, up to the limit, before the application sees any of it."""

    def __init__(self, app: ASGIApp, default: int, by_prefix: dict[str, int]) -> None:
        self.app, self.default, self.by_prefix = app, default, by_prefix

    def _limit(self, path: str) -> int:
        for prefix, limit in self.by_prefix.items():
            if path.startswith(prefix):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(str(scope["path"]))
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        seen, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message]), send)
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                await self._refuse(send)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)

    @staticmethod
    async def _refuse(send: Send) -> None:
        start, body = _json(413, "too_large", "Requête trop volumineuse.")
        await send(start)
        await send(body)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()  # after the body: a disconnect, when it comes
        return {"type": "http.disconnect"}

    return receive


def install_walls(app: FastAPI, settings: Settings, codec_prefix: str) -> None:
    """The walls around the application; added last, so outermost: client address, then
    Host, then body size."""
    app.add_middleware(BodyLimit, default=settings.api.max_body_bytes,
                       by_prefix={codec_prefix + "/": settings.api.codec_max_body_bytes})
    app.add_middleware(HostGuard, hosts=served_hosts(settings),
                       reserved_test_names=settings.lenient)
    app.add_middleware(ProxyHeadersMiddleware,
                       trusted_hosts=list(settings.api.trusted_proxies))


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
    """Server spans for every route but the health and metrics probes, URLs redacted."""
    FastAPIInstrumentor.instrument_app(app, server_request_hook=_redact_url,
                                       excluded_urls="healthz,metrics")
