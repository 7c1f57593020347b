"""The service's public interfaces as the benchmark uses them: the platform stand-in (an
applicant files), the webhook, the mailbox (emails as received), the CRA members' signed-link
pages and BESSII's JSON API. Nothing here reaches into the service's code or database."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from api.cli.demo import sample

REGIONS = ("01", "02", "03", "04", "06", "11", "24", "27", "28", "32", "44", "52", "53", "75",
           "76", "84", "93", "94")  # the regions with a CRA pair in the demo directory
INVITATION = re.compile(r"demandé – dossier n° (\d+) –")
LINK = re.compile(r"/cra/avis/(\S+)")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Platform:
    """An applicant filing a complete one-region dossier (the standard path)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self._http, self._base = http, base_url

    async def file(self, i: int) -> tuple[int, float]:
        _, fields = sample(0)
        region = REGIONS[i % len(REGIONS)]
        body = {"usager_email": fields["referent_email"], "fields": {**fields, "region": region}}
        response = await self._http.post(f"{self._base}/_standin/dossiers", json=body)
        response.raise_for_status()
        return int(response.json()["number"]), time.time()


    async def file_many(self, first: int, count: int) -> list[int]:
        """``count`` dossiers like ``file(first)``… ``file(first + count - 1)``, in one request to
        the stand-in's test-only bulk path (``POST /_standin/dossiers/bulk``)."""
        _, fields = sample(0)
        regions = [REGIONS[(first + k) % len(REGIONS)] for k in range(len(REGIONS))]
        body = {"usager_email": fields["referent_email"], "fields": fields, "count": count,
                "regions": regions}
        response = await self._http.post(f"{self._base}/_standin/dossiers/bulk", json=body,
                                          timeout=600)
        response.raise_for_status()
        return [int(n) for n in response.json()["numbers"]]


@dataclass(frozen=True)
class Invitation:
    message_id: int
    number: int
    member: str
    token: str
    received_at: float  # epoch seconds, as stamped by the SMTP sink


class Mailbox:
    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self._http, self._base = http, base_url

    async def invitations(self, subject: str = "demandé") -> list[Invitation]:
        response = await self._http.get(f"{self._base}/api/messages", params={"subject": subject})
        response.raise_for_status()
        found = []
        for m in response.json():
            number, link = INVITATION.search(m["subject"]), LINK.search(m["text"])
            if number and link:
                found.append(Invitation(m["id"], int(number.group(1)), m["to"][0], link.group(1),
                                        datetime.fromisoformat(m["received_at"]).timestamp()))
        return found


class CraMember:
    """A committee member opening the link of an invitation and posting the opinion form."""

    def __init__(self, http: httpx.AsyncClient, api_url: str) -> None:
        self._http, self._api = http, api_url

    async def answer(self, token: str) -> float:
        """Seconds taken by the POST of the form (the GET of the page is not counted)."""
        url = f"{self._api}/cra/avis/{token}"
        page = await self._http.get(url)
        page.raise_for_status()
        csrf = CSRF.search(page.text)
        if csrf is None:
            raise RuntimeError(f"no form on the CRA page ({page.status_code})")
        form = {"csrf_token": csrf.group(1), "opinion": "favourable",
                "motivation": "Projet solide, bien ancré dans son territoire.",
                "no_conflict_of_interest": "oui"}
        started = time.perf_counter()
        response = await self._http.post(url, data=form, headers={"Origin": self._api})
        elapsed = time.perf_counter() - started
        if response.status_code != 303:
            raise RuntimeError(f"CRA answer refused: HTTP {response.status_code}")
        return elapsed


class Refused(Exception):
    """409 from the agent API: the workflow's validator refused (e.g. not yet at that stage)."""


class Agent:
    """A BESSII agent signed in with the development sign-in, acting through ``/api``."""

    def __init__(self, http: httpx.AsyncClient, api_url: str) -> None:
        self._http, self._api = http, api_url
        self._headers: dict[str, str] = {}

    async def sign_in(self, name: str = "Agent Bench", email: str = "bench@dgtresor.localhost"
                      ) -> None:
        response = await self._http.post(
            f"{self._api}/connexion/dev", data={"name": name, "email": email, "role": "agent"},
            headers={"Origin": self._api})
        if response.status_code not in (302, 303):
            raise RuntimeError(f"dev sign-in refused: HTTP {response.status_code}")
        session = (await self._http.get(f"{self._api}/api/session")).json()
        self._headers = {session["csrf_header"]: session["csrf_token"]}

    async def _post(self, path: str, body: dict[str, Any]) -> float:
        started = time.perf_counter()
        response = await self._http.post(f"{self._api}/api/dossiers/{path}", json=body,
                                         headers=self._headers)
        elapsed = time.perf_counter() - started
        if response.status_code == 409:
            raise Refused(response.json().get("message", ""))
        response.raise_for_status()
        return elapsed

    async def confirm_admissibility(self, number: int) -> float:
        return await self._post(f"{number}/admissibility",
                                {"admissible": True, "reason": "Dossier recevable."})

    async def record_eligibility(self, number: int) -> float:
        criteria = ["grouping", "territorial_anchoring", "social_innovation", "quality_jobs",
                    "respectful_activities", "local_resources", "citizen_involvement"]
        return await self._post(f"{number}/eligibility", {"criteria": dict.fromkeys(criteria, "met")})

    async def record_decision(self, number: int) -> float:
        return await self._post(f"{number}/decision",
                                {"outcome": "laureat", "motivation": "Projet retenu."})

    async def stage(self, number: int) -> str:
        response = await self._http.get(f"{self._api}/api/dossiers/{number}", headers=self._headers)
        response.raise_for_status()
        stage: str = response.json()["stage"]
        return stage


async def webhook(http: httpx.AsyncClient, api_url: str, secret: str) -> None:
    """The platform's hint that something changed: the intake polls now."""
    response = await http.post(f"{api_url}/webhooks/ds/{secret}")
    response.raise_for_status()
