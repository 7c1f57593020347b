"""A local OpenID Connect provider for the tests: discovery, JWKS, an authorize endpoint that
signs the configured user in at once (redirect with a code), a token endpoint with PKCE.

Knobs: ``user`` (claims of who signs in), ``tamper`` ("payload": the ID token is altered after
signing; "foreign_key": signed by a key the JWKS does not hold; "nonce": another nonce).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, HTTPException
from fastapi.responses import JSONResponse, RedirectResponse

CLIENT_ID, CLIENT_SECRET = "ptce-test-client", "ptce-test-secret"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class LocalIssuer:
    def __init__(self, url: str) -> None:
        self.url = url
        self.key, self.foreign = _key(), _key()
        self.user: dict[str, Any] = {"sub": "sub-alice", "email": "Alice.Martin@finances.gouv.fr",
                                     "given_name": "Alice", "usual_name": "Martin"}
        self.tamper: str | None = None
        self.codes: dict[str, dict[str, Any]] = {}
        self.token_requests = 0

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {"iss": self.url, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                  "nonce": "another-nonce" if self.tamper == "nonce" else nonce, **self.user}
        key = self.foreign if self.tamper == "foreign_key" else self.key
        token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
        if self.tamper == "payload":
            header, _, signature = token.split(".")
            forged = {**claims, "sub": "sub-admin"}
            body = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
            token = f"{header}.{body}.{signature}"
        return token

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            return {"issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                    "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
                    "response_types_supported": ["code"], "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"]}

        @app.get("/jwks")
        async def jwks() -> dict[str, Any]:
            return self.jwks()

        @app.get("/authorize")
        async def authorize(client_id: str, redirect_uri: str, state: str, nonce: str,
                            code_challenge: str, response_type: str = "code") -> RedirectResponse:
            if client_id != CLIENT_ID or response_type != "code":
                raise HTTPException(400, "bad client")
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"nonce": nonce, "challenge": code_challenge,
                                "redirect_uri": redirect_uri}
            return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}",
                                    status_code=302)

        @app.post("/token")
        async def token(grant_type: str = Form(), code: str = Form(), redirect_uri: str = Form(),
                        code_verifier: str = Form(), client_id: str = Form(),
                        client_secret: str = Form()) -> JSONResponse:
            self.token_requests += 1
            grant = self.codes.pop(code, None)
            if grant is None or client_id != CLIENT_ID or client_secret != CLIENT_SECRET:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            digest = hashlib.sha256(code_verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            if challenge != grant["challenge"] or redirect_uri != grant["redirect_uri"]:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            return JSONResponse({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                                 "id_token": self.id_token(grant["nonce"]), "expires_in": 300})

        return app
