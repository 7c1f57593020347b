"""OpenID Connect, authorization code flow with PKCE, for any standard provider (ProConnect).

The protocol is Authlib's (``AsyncOAuth2Client``: authorization URL, PKCE S256, code exchange,
client authentication) and the ID token's signature joserfc's; its claims are checked by
Authlib's ``CodeIDToken``: ``iss`` (the configured issuer), ``aud`` (our client id), ``azp``
(ours when present, required with several audiences), ``exp`` and ``iat`` (required), and the
nonce of this sign-in. Discovery and the JWKS are fetched once; an unknown key id fetches the
JWKS again (rotation). An email that the provider does not say is verified is refused: roles
and bootstrap admins match on it. Tokens and codes are never logged.
"""

from __future__ import annotations

import logging
import secrets
import ssl
from typing import Any

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.jose.errors import JoseError
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError as JoserfcError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from pydantic import BaseModel

from api.auth.errors import SignInFailed
from api.auth.session import SignInTransaction
from core.settings import Settings

log = logging.getLogger("ptce.api.auth")
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
              "EdDSA")
LEEWAY_SECONDS = 60


class Identity(BaseModel):
    sub: str
    email: str | None = None
    name: str


def _name(claims: dict[str, Any], email: str | None, sub: str) -> str:
    given = claims.get("given_name") or ""
    family = claims.get("usual_name") or claims.get("family_name") or ""
    full = claims.get("name") or f"{given} {family}".strip()
    return str(full or email or sub)[:200]


class OidcClient:
    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None
                 ) -> None:
        conf = settings.agents.oidc
        self._issuer = conf.issuer.rstrip("/")
        self._client_id = conf.client_id
        self._secret = conf.client_secret
        self._redirect = conf.redirect_url or (
            settings.api.public_base_url.rstrip("/") + "/connexion/retour")
        self._scopes = conf.scopes
        self._auth_method = conf.token_auth_method
        self._timeout = conf.timeout_seconds
        self._email_vouched = conf.email_verified_by_provider
        self._transport = transport  # tests only: a provider served in-process
        # One TLS context for every call to the provider (a sign-in makes three), made at the
        # first: httpx builds one per client otherwise, loading its CA bundle each time (~26 ms
        # of CPU). The same verification: httpx's own default context.
        self._tls: ssl.SSLContext | None = None
        self._discovery: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    @property
    def configured(self) -> bool:
        return bool(self._issuer and self._client_id)

    def _client(self, **kwargs: Any) -> AsyncOAuth2Client:
        if self._tls is None:
            self._tls = httpx.create_ssl_context()
        return AsyncOAuth2Client(
            self._client_id, self._secret.get_secret_value(), scope=" ".join(self._scopes),
            redirect_uri=self._redirect, code_challenge_method="S256",
            token_endpoint_auth_method=self._auth_method, timeout=self._timeout,
            transport=self._transport, verify=self._tls, **kwargs)

    async def _get_json(self, url: str) -> dict[str, Any]:
        async with self._client() as oc:
            response = await oc.request("GET", url, withhold_token=True)
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found

    async def discovery(self) -> dict[str, Any]:
        if self._discovery is None:
            try:
                found = await self._get_json(f"{self._issuer}/.well-known/openid-configuration")
            except (httpx.HTTPError, ValueError) as exc:
                raise SignInFailed("fournisseur d’identité injoignable") from exc
            if str(found.get("issuer", "")).rstrip("/") != self._issuer:
                raise SignInFailed("discovery issuer mismatch")
            self._discovery = found
        return self._discovery

    async def _jwks(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            try:
                self._keys = KeySet.import_key_set(
                    await self._get_json((await self.discovery())["jwks_uri"]))  # type: ignore[arg-type]
            except (httpx.HTTPError, ValueError, KeyError, JoserfcError) as exc:
                raise SignInFailed("provider keys unavailable") from exc
        return self._keys

    async def _algorithms(self) -> list[str]:
        announced = (await self.discovery()).get("id_token_signing_alg_values_supported",
                                                 ["RS256"])
        algorithms = [a for a in announced if a in ASYMMETRIC]
        if not algorithms:
            raise SignInFailed("no asymmetric signature algorithm announced")
        return algorithms

    async def _decode(self, token: str) -> jwt.Token:
        """The signature checked with the provider's keys (once more after a JWKS refresh)."""
        registry = JWSRegistry(algorithms=await self._algorithms())
        for refresh in (False, True):
            try:
                return jwt.decode(token, await self._jwks(refresh), registry=registry)
            except (JoserfcError, ValueError) as exc:
                if refresh:
                    raise SignInFailed(f"token refused: {type(exc).__name__}") from exc
        raise AssertionError("unreachable")

    def _validate(self, token: jwt.Token, nonce: str, access_token: str | None) -> dict[str, Any]:
        options = {"iss": {"essential": True, "value": self._issuer},
                   "aud": {"essential": True, "value": self._client_id},
                   "exp": {"essential": True}, "iat": {"essential": True},
                   "nonce": {"essential": True, "value": nonce}}
        params: dict[str, Any] = {"nonce": nonce, "client_id": self._client_id}
        if access_token:
            params["access_token"] = access_token  # at_hash, when the provider sends one
        claims = CodeIDToken(token.claims, token.header, options=options, params=params)
        try:
            claims.validate(leeway=LEEWAY_SECONDS)
        except (JoseError, JoserfcError) as exc:  # Authlib raises joserfc's errors since 1.7
            raise SignInFailed(f"ID token refused: {type(exc).__name__}") from exc
        return dict(claims)

    async def authorize_url(self, next_path: str) -> tuple[str, SignInTransaction]:
        endpoint = (await self.discovery())["authorization_endpoint"]
        transaction = SignInTransaction(state=secrets.token_urlsafe(24),
                                        nonce=secrets.token_urlsafe(24),
                                        verifier=secrets.token_urlsafe(48), next=next_path)
        async with self._client() as oc:
            url, _ = oc.create_authorization_url(endpoint, state=transaction.state,
                                                 code_verifier=transaction.verifier,
                                                 nonce=transaction.nonce)
        return str(url), transaction

    async def _exchange(self, callback_url: str, transaction: SignInTransaction
                        ) -> dict[str, Any]:
        endpoint = (await self.discovery())["token_endpoint"]
        try:
            async with self._client(state=transaction.state) as oc:
                tokens: dict[str, Any] = dict(await oc.fetch_token(
                    endpoint, authorization_response=callback_url,
                    code_verifier=transaction.verifier, state=transaction.state))
        except (httpx.HTTPError, OAuth2Error, ValueError) as exc:
            raise SignInFailed(f"code exchange failed: {type(exc).__name__}") from exc
        if not isinstance(tokens.get("id_token"), str):
            raise SignInFailed("no ID token")
        return tokens

    async def _userinfo(self, tokens: dict[str, Any], sub: str) -> dict[str, Any]:
        endpoint = (await self.discovery()).get("userinfo_endpoint")
        if not endpoint:
            return {}
        try:
            async with self._client(token=tokens) as oc:
                response = await oc.get(endpoint)
            response.raise_for_status()
        except httpx.HTTPError:
            log.warning("userinfo unavailable")
            return {}
        if response.headers.get("content-type", "").startswith("application/jwt"):  # ProConnect
            signed = await self._decode(response.text)
            info = dict(signed.claims)
            audience = info.get("aud")
            audiences = audience if isinstance(audience, list) else [audience]
            if str(info.get("iss", "")).rstrip("/") != self._issuer or (
                    self._client_id not in audiences):
                raise SignInFailed("userinfo issuer or audience mismatch")
        else:
            info = response.json()
        if info.get("sub") != sub:
            raise SignInFailed("userinfo subject mismatch")
        return info

    def _verified_email(self, claims: dict[str, Any]) -> str | None:
        email = claims.get("email")
        if not email:
            return None
        verified = claims.get("email_verified")
        if verified is True or (verified is None and self._email_vouched):
            return str(email)
        raise SignInFailed("email not verified by the provider")

    async def identify(self, callback_url: str, transaction: SignInTransaction) -> Identity:
        """Callback → tokens → verified ID token (nonce of this sign-in) → who signed in."""
        tokens = await self._exchange(callback_url, transaction)
        access = tokens.get("access_token")
        claims = self._validate(await self._decode(tokens["id_token"]), transaction.nonce,
                                access if isinstance(access, str) else None)
        sub = str(claims["sub"])
        if not claims.get("email") and isinstance(access, str):
            claims = {**await self._userinfo(tokens, sub), **claims}
        email = self._verified_email(claims)
        return Identity(sub=sub, email=email, name=_name(claims, email, sub))
