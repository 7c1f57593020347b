"""``/_standin/tokens`` and ``/_standin/groupes``: who may call the API, and who instructs what.

A token is switched as the platform's pages would switch it (or time would): expired, limited to
networks, read-only, revoked; a new one is added for a rotation. A groupe's instructeurs change
as an administrator of the démarche would change them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from standins.platform import access
from standins.platform.clock import api_datetime_or_none, to_us, wall_clock_us
from standins.platform.context import Platform
from standins.platform.deps import PlatformDep
from standins.platform.records import TokenRecord


class TokenChange(BaseModel):
    token: str = Field(min_length=1)
    expired: bool | None = None  # true: expires now; false: valid for a year again
    expires_at: datetime | None = None
    networks: list[str] | None = None  # CIDR ranges; [] lets the next caller's address be pinned
    requires_ip_filtering: bool | None = None
    write_access: bool | None = None


router = APIRouter(prefix="/_standin")


@router.get("/tokens")
def tokens(platform: PlatformDep) -> list[dict[str, Any]]:
    store = platform.store
    return [_view(t) for t in store.tokens()]


@router.post("/tokens")
def change_token(platform: PlatformDep, body: TokenChange) -> dict[str, Any]:
    store = platform.store
    key = access.digest(body.token)
    token = store.token(key) or TokenRecord(key, wall_clock_us() + access.YEAR_US, None,
                                            True, True)
    expires_at = token.expires_at
    if body.expired is not None:
        expires_at = wall_clock_us() - 1 if body.expired else wall_clock_us() + access.YEAR_US
    if body.expires_at is not None:
        expires_at = to_us(body.expires_at)
    token = TokenRecord(
        key, expires_at,
        token.networks if body.networks is None else (body.networks or None),
        token.requires_ip_filtering if body.requires_ip_filtering is None
        else body.requires_ip_filtering,
        token.write_access if body.write_access is None else body.write_access)
    with store.write() as tx:
        tx.save_token(token)
    return _view(token)


@router.delete("/tokens")
def revoke(platform: PlatformDep, body: TokenChange) -> dict[str, bool]:
    store = platform.store
    with store.write() as tx:
        tx.delete_token(access.digest(body.token))
    return {"revoked": True}


@router.get("/groupes")
def groupes(platform: PlatformDep) -> list[dict[str, Any]]:
    store = platform.store
    members = store.groupe_members()
    return [{"number": g.number, "label": g.label, "regions": list(g.regions),
             "instructeurs": members.get(g.number, [])} for g in platform.demarche.groupes]


@router.put("/groupes/{number}/instructeurs/{instructeur_id}")
def add_member(platform: PlatformDep, number: int, instructeur_id: str) -> dict[str, Any]:
    return _member(platform, number, instructeur_id, True)


@router.delete("/groupes/{number}/instructeurs/{instructeur_id}")
def remove_member(platform: PlatformDep, number: int, instructeur_id: str) -> dict[str, Any]:
    return _member(platform, number, instructeur_id, False)


def seed_groupes(platform: Platform) -> None:
    """The configured instructeur in every groupe, the first time the store is created."""
    if platform.store.groupe_members():
        return
    with platform.store.write() as tx:
        for groupe in platform.demarche.groupes:
            tx.set_member(groupe.number, platform.instructeur_id, True)


def _member(platform: Platform, number: int, instructeur_id: str, member: bool) -> dict[str, Any]:
    if number not in {g.number for g in platform.demarche.groupes}:
        raise HTTPException(404, "Groupe instructeur introuvable")
    with platform.store.write() as tx:
        tx.set_member(number, instructeur_id, member)
    return {"number": number, "instructeurs": platform.store.groupe_members().get(number, [])}


def _view(token: TokenRecord) -> dict[str, Any]:
    return {"fingerprint": token.token[:12], "expires_at": api_datetime_or_none(token.expires_at),
            "expired": token.expires_at is not None and token.expires_at <= wall_clock_us(),
            "networks": token.networks, "requires_ip_filtering": token.requires_ip_filtering,
            "write_access": token.write_access}
