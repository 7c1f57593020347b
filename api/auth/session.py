"""The signed session cookie of BESSII's people, and the short-lived sign-in transaction.

Both are signed (itsdangerous, HMAC) with the session secret, never encrypted: they hold no
token from the provider, only who signed in, how, and the CSRF token of the session.
"""

from __future__ import annotations

import secrets
from enum import StrEnum

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import BaseModel, ValidationError

from api.auth.roles import Role
from core.domain.procedure import Agent
from core.settings import Settings

SESSION_COOKIE = "ptce_agent"
SIGN_IN_COOKIE = "ptce_oidc"
SIGN_IN_MAX_AGE = 600


class Source(StrEnum):
    OIDC = "oidc"
    DEV = "dev"


class AgentSession(BaseModel):
    sid: str  # this session's id: a sign-out revokes it (cookies without one are refused)
    sub: str
    email: str | None = None
    name: str
    role: Role  # as signed in; an OIDC session's role is read again from the table per request
    source: Source
    csrf: str

    @property
    def agent(self) -> Agent:
        """The identity every action records."""
        return Agent(id=self.sub, name=self.name)


class SignInTransaction(BaseModel):
    state: str
    nonce: str
    verifier: str
    next: str = "/agents"


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


def new_sid() -> str:
    return secrets.token_urlsafe(24)


class Cookies:
    def __init__(self, settings: Settings) -> None:
        secret = settings.agents.session_secret.get_secret_value()
        self._session = URLSafeTimedSerializer(secret, salt="ptce-agent-session")
        self._sign_in = URLSafeTimedSerializer(secret, salt="ptce-agent-sign-in")
        self._max_age = settings.agents.session_max_age_seconds
        self.max_age = self._max_age
        self._secure = settings.api.public_base_url.lower().startswith("https://")

    def _set(self, response: Response, name: str, value: str, max_age: int, path: str) -> None:
        response.set_cookie(name, value, max_age=max_age, path=path, httponly=True,
                            samesite="lax", secure=self._secure)

    def read_session(self, request: Request) -> AgentSession | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            return AgentSession.model_validate(self._session.loads(raw, max_age=self._max_age))
        except (BadSignature, ValidationError, TypeError):
            return None

    def write_session(self, response: Response, session: AgentSession) -> None:
        self._set(response, SESSION_COOKIE, self._session.dumps(session.model_dump(mode="json")),
                  self._max_age, "/")

    def clear_session(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                               secure=self._secure)

    def read_sign_in(self, request: Request) -> SignInTransaction | None:
        raw = request.cookies.get(SIGN_IN_COOKIE)
        if not raw:
            return None
        try:
            return SignInTransaction.model_validate(self._sign_in.loads(raw, max_age=SIGN_IN_MAX_AGE))
        except (BadSignature, ValidationError, TypeError):
            return None

    def write_sign_in(self, response: Response, transaction: SignInTransaction) -> None:
        self._set(response, SIGN_IN_COOKIE, self._sign_in.dumps(transaction.model_dump()),
                  SIGN_IN_MAX_AGE, "/connexion")

    def clear_sign_in(self, response: Response) -> None:
        response.delete_cookie(SIGN_IN_COOKIE, path="/connexion", httponly=True, samesite="lax",
                               secure=self._secure)
