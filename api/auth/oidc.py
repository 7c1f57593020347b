"""OpenID Connect, authorization code flow with PKCE, for any standard provider (ProConnect).

Discovery (``/.well-known/openid-configuration``) and the JWKS are fetched once and cached; an
unknown key id fetches the JWKS again (key rotation). The ID token must be signed with an
asymmetric algorithm the provider announces, for our client id, by the configured issuer, and
carry the nonce of this sign-in. Tokens and codes are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from pydantic import BaseModel

from api.auth.errors import SignInFailed
from api.auth.session import SignInTransaction
from core.settings import Settings

log = logging.getLogger("ptce.api.auth")
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
              "EdDSA")


class Identity(BaseModel):
    sub: str
    email: str | None = None
    name: str


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _name(claims: dict[str, Any], email: str | None, sub: str) -> str:
    given = claims.get("given_name") or ""
    family = claims.get("usual_name") or claims.get("family_name") or ""
    full = claims.get("name") or f"{given} {family}".strip()
    return str(full or email or sub)[:200]


class OidcClient:
    def __init__(self, settings: Settings) -> None:
        conf = settings.agents.oidc
        self._issuer = conf.issuer.rstrip("/")
        self._client_id = conf.client_id
        self._secret = conf.client_secret
        self._redirect = conf.redirect_url or (
            settings.api.public_base_url.rstrip("/") + "/connexion/retour")
        self._scopes = conf.scopes
        self._auth_method = conf.token_auth_method
        self._timeout = conf.timeout_seconds
        self._discovery: dict[str, Any] | None = None
        self._keys: jwt.PyJWKSet | None = None

    @property
    def configured(self) -> bool:
        return bool(self._issuer and self._client_id)

    async def _get(self, url: str, **kwargs: Any) -> httpx.Response:
        async with httpx.AsyncClient(timeout=self._timeout) as http:
            response = await http.get(url, **kwargs)
        response.raise_for_status()
        return response

    async def discovery(self) -> dict[str, Any]:
        if self._discovery is None:
            try:
                found: dict[str, Any] = (await self._get(
                    f"{self._issuer}/.well-known/openid-configuration")).json()
            except httpx.HTTPError as exc:
                raise SignInFailed("fournisseur d’identité injoignable") from exc
            if found.get("issuer", "").rstrip("/") != self._issuer:
                raise SignInFailed("discovery issuer mismatch")
            self._discovery = found
        return self._discovery

    async def _jwks(self, refresh: bool = False) -> jwt.PyJWKSet:
        if self._keys is None or refresh:
            url = (await self.discovery())["jwks_uri"]
            self._keys = jwt.PyJWKSet.from_dict((await self._get(url)).json())
        return self._keys

    async def _key_for(self, token: str) -> tuple[jwt.PyJWK, str]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise SignInFailed("malformed token") from exc
        alg, kid = header.get("alg"), header.get("kid")
        announced = (await self.discovery()).get("id_token_signing_alg_values_supported", ["RS256"])
        if alg not in ASYMMETRIC or alg not in announced:
            raise SignInFailed("signature algorithm refused")
        for refresh in (False, True):
            keys = await self._jwks(refresh)
            matching = [k for k in keys.keys if kid is None or k.key_id == kid]
            if matching:
                return matching[0], alg
        raise SignInFailed("unknown signing key")

    async def _verify(self, token: str, **checks: Any) -> dict[str, Any]:
        key, alg = await self._key_for(token)
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key=key.key, algorithms=[alg], issuer=self._issuer, leeway=30,
                options={"require": ["sub", "iss"]}, **checks)
        except jwt.PyJWTError as exc:
            raise SignInFailed(f"token refused: {type(exc).__name__}") from exc
        return claims

    async def authorize_url(self, next_path: str) -> tuple[str, SignInTransaction]:
        endpoint = (await self.discovery())["authorization_endpoint"]
        transaction = SignInTransaction(state=secrets.token_urlsafe(24),
                                        nonce=secrets.token_urlsafe(24),
                                        verifier=secrets.token_urlsafe(48), next=next_path)
        query = urlencode({
            "response_type": "code", "client_id": self._client_id, "redirect_uri": self._redirect,
            "scope": " ".join(self._scopes), "state": transaction.state, "nonce": transaction.nonce,
            "code_challenge": _challenge(transaction.verifier), "code_challenge_method": "S256"})
        return f"{endpoint}?{query}", transaction

    async def _exchange(self, code: str, verifier: str) -> dict[str, Any]:
        endpoint = (await self.discovery())["token_endpoint"]
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self._redirect,
                "code_verifier": verifier}
        auth: httpx.Auth | None = None
        if self._auth_method == "client_secret_post":
            form |= {"client_id": self._client_id, "client_secret": self._secret.get_secret_value()}
        else:
            auth = httpx.BasicAuth(self._client_id, self._secret.get_secret_value())
        try:
            async with httpx.AsyncClient(timeout=self._timeout, auth=auth) as http:
                response = await http.post(endpoint, data=form)
            response.raise_for_status()
            tokens: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SignInFailed("token endpoint refused the code") from exc
        if not isinstance(tokens.get("id_token"), str):
            raise SignInFailed("no id token")
        return tokens

    async def _userinfo(self, access_token: str, sub: str) -> dict[str, Any]:
        endpoint = (await self.discovery()).get("userinfo_endpoint")
        if not endpoint:
            return {}
        try:
            response = await self._get(endpoint, headers={"Authorization": f"Bearer {access_token}"})
        except httpx.HTTPError:
            log.warning("userinfo unavailable")
            return {}
        if response.headers.get("content-type", "").startswith("application/jwt"):  # ProConnect
            info = await self._verify(response.text, audience=self._client_id)
        else:
            info = response.json()
        if info.get("sub") != sub:
            raise SignInFailed("userinfo subject mismatch")
        return info

    async def identify(self, code: str, transaction: SignInTransaction) -> Identity:
        """Code → tokens → verified ID token (nonce of this sign-in) → who signed in."""
        tokens = await self._exchange(code, transaction.verifier)
        claims = await self._verify(tokens["id_token"], audience=self._client_id)
        if not secrets.compare_digest(str(claims.get("nonce", "")), transaction.nonce):
            raise SignInFailed("nonce mismatch")
        sub = str(claims["sub"])
        if not claims.get("email") and isinstance(tokens.get("access_token"), str):
            claims = {**await self._userinfo(tokens["access_token"], sub), **claims}
        email = claims.get("email")
        email = str(email) if email else None
        return Identity(sub=sub, email=email, name=_name(claims, email, sub))
