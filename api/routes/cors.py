"""CORS for the Temporal UI's origin, on the codec endpoint only.

An application-wide ``CORSMiddleware`` with credentials would let the UI's origin read every
agent endpoint; this wrapper applies it to one path prefix and leaves the rest same-origin.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


class PrefixCors:
    def __init__(self, app: ASGIApp, prefix: str, origins: list[str]) -> None:
        self.app = app
        self.prefix = prefix
        self.cors = CORSMiddleware(app, allow_origins=origins, allow_credentials=True,
                                   allow_methods=["POST"],
                                   allow_headers=["content-type", "x-namespace", "authorization"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope["path"]).startswith(self.prefix + "/"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
