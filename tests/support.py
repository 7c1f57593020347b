"""Test support: the real parts of the stack, started in-process on free ports.

A ``Stack`` holds the platform stand-in (real HTTP over an ASGI transport), the SMTP sink with
its JSON API (real SMTP, real HTTP), a SQLite database and settings pointing at them.
"""

from __future__ import annotations

import itertools
import sqlite3
import ssl
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx
from sqlalchemy import select
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.workflow._definition import _Definition

from api.cli.demo import sample
from api.cli.worker import Resources, build_worker, resources
from api.temporal import converter
from core.db.seed import load_cra_members
from core.db.tables import DossierRecord, DossierSnapshot, SentEmail
from core.domain.policy import Policy
from core.settings import (
    ApiSettings,
    CodecSettings,
    PlatformSettings,
    Settings,
    SmtpSettings,
    TemporalSettings,
)
from standins.mailbox import start_mailbox
from standins.platform import create_app as create_platform_app
from tests.databases import stack_database

# Tests run with the payload codec on, as production does (the embedded development key); they
# read the plaintext histories recorded before the codec, as dev and test do.
CONVERTER = converter(CodecSettings(allow_plaintext=True))
TOKEN = "test-token"
# The clients of the stand-ins speak plain HTTP: one TLS context for all of them (httpx loads the
# CA bundle for each client otherwise, ~30 ms of CPU each).
PLAIN_HTTP = ssl.create_default_context()
INSTRUCTEUR = "SW5zdHJ1Y3RldXItMQ=="


class _PreparedOnce(SandboxedWorkflowRunner):
    """The service's sandbox, which checks each workflow definition (an instance created in the
    sandbox, 25 ms of CPU for the three types) when a worker is built: once per test process
    here, not again for each test's worker. Every workflow run still gets its own sandbox."""

    _prepared: ClassVar[set[type]] = set()

    def prepare_workflow(self, defn: _Definition) -> None:
        if defn.cls not in self._prepared:
            super().prepare_workflow(defn)
            self._prepared.add(defn.cls)


FAST_POLICY = Policy(
    correction_deadline=timedelta(days=30), correction_reminders=[timedelta(days=14)],
    cra_deadline=timedelta(days=21), cra_reminders=[timedelta(days=7), timedelta(days=14)],
    cra_final_reminder_before=timedelta(days=2),
    bessii_reminder_after=timedelta(days=7), bessii_reminder_every=timedelta(days=7),
)


@dataclass
class Stack:
    settings: Settings
    platform: httpx.AsyncClient  # the stand-in's admin endpoints
    mailbox: httpx.AsyncClient  # the SMTP sink's JSON API
    res: Resources

    def worker(self, client: Client, **options: Any) -> Worker:
        options.setdefault("workflow_runner", _PreparedOnce())  # one per worker, as the SDK's
        return build_worker(client, self.settings, self.res,
                            task_queue=f"tq-{uuid.uuid4()}", **options)

    async def file(self, index: int = 0, **overrides: Any) -> int:
        _, fields = sample(index)
        fields = {**fields, **overrides}
        r = await self.platform.post("/_standin/dossiers", json={
            "usager_email": fields.get("referent_email") or "porteur@example.org",
            "fields": fields})
        r.raise_for_status()
        return int(r.json()["number"])

    async def edit(self, number: int, **fields: Any) -> None:
        r = await self.platform.patch(f"/_standin/dossiers/{number}", json={"fields": fields})
        r.raise_for_status()

    async def dossier(self, number: int) -> dict[str, Any]:
        r = await self.platform.get(f"/_standin/dossiers/{number}")
        r.raise_for_status()
        data: dict[str, Any] = r.json()
        return data

    async def mutations(self, number: int) -> list[str]:
        r = await self.platform.get("/_standin/mutations", params={"dossier": number})
        r.raise_for_status()
        return [m["name"] for m in r.json()]

    async def platform_emails(self, number: int) -> list[dict[str, Any]]:
        """The platform's own emails to the dossier's applicant (its acknowledgement, its
        "en instruction", its correction request…), as the stand-in keeps them."""
        r = await self.platform.get("/_standin/emails", params={"dossier": number})
        r.raise_for_status()
        emails: list[dict[str, Any]] = r.json()
        return emails

    async def emails(self, to: str | None = None, subject: str | None = None
                     ) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("to", to), ("subject", subject)) if v}
        r = await self.mailbox.get("/api/messages", params=params)
        r.raise_for_status()
        messages: list[dict[str, Any]] = r.json()
        return messages

    async def record(self, number: int) -> DossierRecord | None:
        async with self.res.db.unit_of_work() as s:
            return await s.get(DossierRecord, number)

    async def snapshots(self, number: int) -> int:
        async with self.res.db.unit_of_work() as s:
            rows = await s.scalars(select(DossierSnapshot).where(DossierSnapshot.number == number))
            return len(list(rows))

    async def sent_keys(self, number: int) -> list[str]:
        async with self.res.db.unit_of_work() as s:
            rows = await s.scalars(select(SentEmail.key).where(SentEmail.dossier_number == number))
            return list(rows)


_STACKS = itertools.count(1)


def _number_dossiers_from(db: Path, first: int) -> None:
    """Tests share one Temporal server: each stack numbers its dossiers in its own range so
    their workflow ids (``dossier-<number>``) never collide."""
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM sqlite_sequence WHERE name = 'dossiers'")
        conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('dossiers', ?)", (first - 1,))


@asynccontextmanager
async def stack(tmp: Path, temporal_address: str = "127.0.0.1:7233",
                policy: Policy = FAST_POLICY, demarche_file: Path | None = None
                ) -> AsyncIterator[Stack]:
    """``demarche_file``: the platform's démarche (champs, annotations, groupes) if not the demo's."""
    platform_app = create_platform_app(tmp / "platform.db", TOKEN, INSTRUCTEUR,
                                       demarche_file=demarche_file)
    _number_dossiers_from(tmp / "platform.db", 1000 * next(_STACKS) + 1)
    # The workflow suite runs on PostgreSQL too when TEST_DATABASE_URL is set (tests/databases.py).
    async with (
        stack_database(tmp) as database_url,
        _stack(tmp, temporal_address, policy, platform_app, database_url) as s,
    ):
        yield s


@asynccontextmanager
async def _stack(tmp: Path, temporal_address: str, policy: Policy, platform_app: Any,
                 database_url: str) -> AsyncIterator[Stack]:
    mailbox = await start_mailbox("127.0.0.1", 0, "127.0.0.1", 0, tmp / "mailbox.db")
    settings = Settings(
        environment="test", var_dir=tmp, database_url=database_url,
        temporal=TemporalSettings(address=temporal_address),
        smtp=SmtpSettings(port=mailbox.smtp_port),
        platform=PlatformSettings(graphql_url="http://platform.test/api/v2/graphql",
                                  token=TOKEN, instructeur_id=INSTRUCTEUR),  # type: ignore[arg-type]
        api=ApiSettings(public_base_url="http://127.0.0.1:8000"),
        policy=policy,
    )
    transport = httpx.ASGITransport(app=platform_app)
    try:
        # The worker's platform client talks HTTP to the stand-in through the ASGI transport.
        platform_http = httpx.AsyncClient(transport=transport, base_url="http://platform.test")
        async with resources(settings, platform_http) as res:
            await load_cra_members(res.db)
            async with (
                httpx.AsyncClient(transport=transport, base_url="http://platform.test") as admin,
                # A new connection each time: the sink closes idle ones, and a reused connection
                # it was closing as a test asked again failed the request (ReadError).
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{mailbox.web_port}",
                                  limits=httpx.Limits(max_keepalive_connections=0),
                                  verify=PLAIN_HTTP) as mail,
            ):
                yield Stack(settings=settings, platform=admin, mailbox=mail, res=res)
    finally:
        await mailbox.close()
