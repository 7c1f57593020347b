"""What the sign-in keeps for the application's lifetime."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from api.agents.pages import AgentPages
from api.auth.oidc import OidcClient
from api.auth.session import Cookies
from core.settings import Settings


@dataclass
class AuthState:
    settings: Settings
    cookies: Cookies
    oidc: OidcClient
    pages: AgentPages


def auth_state(request: Request) -> AuthState:
    state: AuthState = request.app.state.auth
    return state
