"""The agents' sign-in under test: the app in-process, a real OpenID provider over HTTP.

The provider is ``oidc-provider-mock`` (PyPI), a real Authlib-based implementation run on a
local port: consent is given by posting the subject to its authorize URL, and each test gives
its user the claims it needs (``PUT /users/<sub>``). What it cannot produce (an ID token without
``exp``, one signed by a foreign key, one altered after signing) comes from ``SelfSigned``: a
provider answered by ``httpx.MockTransport`` that signs with joserfc.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID, CLIENT_SECRET = "ptce-test-client", "ptce-test-secret"
BASE = "http://agents.test"
PROCONNECT_SCOPES = ["openid", "email", "profile", "given_name", "usual_name", "siret", "idp_id"]


def proconnect_claims(email: str, **extra: Any) -> dict[str, Any]:
    """What ProConnect sends for an agent of a ministry (custom claims included)."""
    return {"email": email, "email_verified": True, "given_name": "Alice",
            "usual_name": "Martin", "idp_id": "fia1v2", "siret": "13000470700015", **extra}


class Browser:
    """Follows the redirects by hand between the app and the provider."""

    def __init__(self, app: httpx.AsyncClient, provider: httpx.AsyncClient, issuer: str) -> None:
        self.app, self.provider, self.issuer = app, provider, issuer

    async def user(self, **claims: Any) -> str:
        """A fresh subject at the provider, with these claims."""
        sub = f"agent-{uuid.uuid4().hex[:8]}"
        put = await self.provider.put(f"{self.issuer}/users/{sub}", json=claims)
        assert put.status_code < 300, put.text
        return sub

    async def start(self) -> str:
        start = await self.app.get("/connexion/oidc", params={"suivant": "/agents/dossiers/7"})
        assert start.status_code == 302, start.text
        return start.headers["location"]

    async def consent(self, authorize_url: str, sub: str) -> str:
        """The provider's answer: the callback path (code and state) on our site."""
        answer = await self.provider.post(authorize_url, data={"sub": sub})
        assert answer.status_code == 302, answer.text
        callback = answer.headers["location"]
        assert callback.startswith(f"{BASE}/connexion/retour?"), callback
        return callback.removeprefix(BASE)

    async def sign_in(self, sub: str) -> httpx.Response:
        return await self.app.get(await self.consent(await self.start(), sub))


def replace_query(url: str, **values: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | values
    return parts._replace(query=urlencode(query)).geturl()


class SelfSigned:
    """A provider that signs the ID tokens we ask for: discovery, JWKS and token endpoint."""

    def __init__(self, issuer: str = "https://self-signed.test") -> None:
        self.issuer = issuer
        self.key = RSAKey.generate_key(2048, parameters={"kid": "s1"})
        self.signing_key = self.key
        self.claims: dict[str, Any] = {}
        self.drop: set[str] = set()
        self.nonce = ""

    def token(self) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "sub": "agent-self", "iat": now,
                  "exp": now + 300, "nonce": self.nonce,
                  **proconnect_claims("self.signed@finances.gouv.fr"), **self.claims}
        for name in self.drop:
            claims.pop(name, None)
        return jwt.encode({"alg": "RS256", "kid": "s1"}, claims, self.signing_key)

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={
                "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "id_token_signing_alg_values_supported": ["RS256"]})
        if path == "/jwks":
            return httpx.Response(200, json={"keys": [
                {**self.key.as_dict(private=False), "alg": "RS256", "use": "sig"}]})
        if path == "/token":
            return httpx.Response(200, json={"access_token": "at", "token_type": "Bearer",
                                             "id_token": self.token(), "expires_in": 300})
        return httpx.Response(404)


def tamper(token: str, **changes: Any) -> str:
    """The ID token's payload altered after signing (signature kept)."""
    import base64

    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**claims, **changes}).encode()).decode()
    return f"{header}.{forged.rstrip('=')}.{signature}"


class TamperingTransport(httpx.AsyncBaseTransport):
    """Real HTTP to the provider; the token endpoint's ID token altered on the way back."""

    def __init__(self, **changes: Any) -> None:
        self._real = httpx.AsyncHTTPTransport()
        self._changes = changes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._real.handle_async_request(request)
        if not request.url.path.endswith("/token"):
            return response
        await response.aread()
        body = json.loads(response.content)
        body["id_token"] = tamper(body["id_token"], **self._changes)
        return httpx.Response(response.status_code, json=body)
