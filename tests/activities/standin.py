"""The platform stand-in for activity tests: real HTTP (ASGI transport) and its admin endpoints."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.platform.activities import PlatformActivities
from activities.platform.client import DsClient
from api.cli.demo import sample
from core.mapping import load_mapping
from core.settings import PlatformSettings
from standins.platform import DEFAULT_INSTRUCTEUR_ID, create_app

TOKEN = "jeton-des-tests"
URL = "http://standin.test/api/v2/graphql"
STRANGER = base64.b64encode(b"Instructeur-2").decode()  # an instructeur without access


@dataclass
class StandIn:
    app: FastAPI
    http: httpx.AsyncClient  # one client for the GraphQL endpoint and /_standin/

    @classmethod
    def create(cls, db: Path, **options: Any) -> StandIn:
        app = create_app(db, TOKEN, DEFAULT_INSTRUCTEUR_ID, **options)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://standin.test")
        return cls(app, http)

    def ds(self, token: str = TOKEN, http: httpx.AsyncClient | None = None,
           url: str = URL) -> DsClient:
        return DsClient(http or self.http, url, token)

    def activities(self, instructeur_id: str = DEFAULT_INSTRUCTEUR_ID,
                   ds: DsClient | None = None) -> PlatformActivities:
        settings = PlatformSettings(graphql_url=URL, token=TOKEN,
                                    instructeur_id=instructeur_id)
        return PlatformActivities(ds or self.ds(), settings, load_mapping(None))

    async def file(self, index: int = 0, **overrides: Any) -> int:
        _, fields = sample(index)
        r = await self.http.post("/_standin/dossiers", json={
            "usager_email": "porteur@example.org", "fields": {**fields, **overrides}})
        r.raise_for_status()
        return int(r.json()["number"])

    async def edit(self, number: int, **fields: Any) -> None:
        r = await self.http.patch(f"/_standin/dossiers/{number}", json={"fields": fields})
        r.raise_for_status()

    async def state(self, number: int) -> dict[str, Any]:
        r = await self.http.get(f"/_standin/dossiers/{number}")
        r.raise_for_status()
        state: dict[str, Any] = r.json()
        return state

    async def mutations(self, number: int) -> list[str]:
        """The mutations the stand-in applied to the dossier (refused ones are not logged)."""
        r = await self.http.get("/_standin/mutations", params={"dossier": number})
        r.raise_for_status()
        return [entry["name"] for entry in r.json()]

    async def fault(self, **fault: Any) -> None:
        (await self.http.post("/_standin/faults", json=fault)).raise_for_status()

    async def aclose(self) -> None:
        await self.http.aclose()


async def run(activity: Any, *args: Any) -> Any:
    """One attempt of an activity method, as a worker would run it."""
    return await ActivityEnvironment().run(activity, *args)


async def failure(activity: Any, *args: Any) -> ApplicationError:
    """The ApplicationError one attempt raises (what Temporal would retry or not)."""
    try:
        await run(activity, *args)
    except ApplicationError as error:
        return error
    raise AssertionError("the activity succeeded")
