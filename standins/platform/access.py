"""API tokens as the platform checks them, in ``API::V2::BaseController``'s order
(app/controllers/api/v2/base_controller.rb @ e1338d7, #L12-L15 and #L50-L78):

1. ``authenticate_from_token``: ``Authorization: Bearer <token>`` (or ``Token token=…``); an
   unknown token leaves the request anonymous. Newer tokens pin the first caller's address when
   they have no network of their own (``APIToken#assign_first_ip!``, app/models/api_token.rb
   @ 1766aca; ``requires_ip_filtering`` defaults to true since ``ChangeRequiresIPFilteringDefault``);
2. ``ensure_authorized_network``: HTTP 403 "Request issued from a forbidden network. Add
   <ip>/<prefix> to your allowed adresses in your /profil" (#L67-L72);
3. ``ensure_token_is_not_expired``: HTTP 401 "Token expired" (#L74-L78); tokens always expire
   now (``validates :expires_at, presence: true``, at most 365 days);
4. ``allow_only_persisted_queries`` for an anonymous request: HTTP 403 (#L61-L65).

Tokens are stored as SHA-256 digests and switched through ``/_standin/tokens`` (expire one,
restrict its networks, make it read-only, add a new one for a rotation).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass, replace

from fastapi.responses import JSONResponse

from standins.platform.clock import wall_clock_us
from standins.platform.execution import error_body
from standins.platform.records import TokenRecord
from standins.platform.store import PlatformStore

ANONYMOUS = "Without a token, only persisted queries are allowed"
EXPIRED = "Token expired"
YEAR_US = 365 * 24 * 3600 * 1_000_000


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer(header: str | None) -> str | None:
    scheme, _, credentials = (header or "").strip().partition(" ")
    if scheme.lower() not in ("bearer", "token") or not credentials:
        return None
    credentials = credentials.strip()
    if credentials.startswith("token="):
        credentials = credentials.removeprefix("token=").strip('"')
    return credentials


def seed_token(store: PlatformStore, token: str) -> None:
    """The stand-in's configured token exists, valid for a year, pinning its first caller."""
    if store.token(digest(token)) is None:
        with store.write() as tx:
            tx.save_token(TokenRecord(digest(token), wall_clock_us() + YEAR_US, None, True, True))


@dataclass(frozen=True, slots=True)
class Verdict:
    token: TokenRecord | None
    refusal: JSONResponse | None = None


def check(store: PlatformStore, header: str | None, remote_ip: str) -> Verdict:
    credentials = bearer(header)
    token = None
    if credentials:
        known = store.token(digest(credentials))
        if known is not None and hmac.compare_digest(known.token, digest(credentials)):
            token = known
    if token is None:
        return Verdict(None, JSONResponse(error_body(ANONYMOUS, "forbidden"), status_code=403))
    if token.requires_ip_filtering and not token.networks:
        token = replace(token, networks=[_single(remote_ip)])
        with store.write() as tx:
            tx.save_token(token)
    if token.networks and not any(_contains(net, remote_ip) for net in token.networks):
        address = ipaddress.ip_address(remote_ip)
        message = (f"Request issued from a forbidden network. Add {address}/{address.max_prefixlen}"
                   " to your allowed adresses in your /profil")
        return Verdict(token, JSONResponse(error_body(message, "forbidden"), status_code=403))
    if token.expires_at is not None and token.expires_at <= wall_clock_us():
        return Verdict(token, JSONResponse(error_body(EXPIRED, "unauthorized"), status_code=401))
    return Verdict(token)


def _single(ip: str) -> str:
    address = ipaddress.ip_address(ip)
    return f"{address}/{address.max_prefixlen}"


def _contains(network: str, ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False
