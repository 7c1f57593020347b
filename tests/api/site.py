"""A running CRA site for tests: the stack, a worker, and the API served by a real uvicorn."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from fastapi import FastAPI
from temporalio.client import Client, WorkflowHandle

from api.app import create_app
from api.cli.ports import free_port
from core.db.repositories import CraLinkAccessRepository, CraMemberRepository
from core.db.tables import CraLinkAccess
from core.domain.policy import Policy
from core.domain.procedure import Stage
from core.ids import consultation_workflow_id, dossier_workflow_id
from core.links import LinkClaims, LinkSigner
from core.settings import CraPageSettings, Settings
from tests.support import FAST_POLICY, Stack
from tests.workflows.helpers import wait_for
from workflows.consultation import CraConsultationWorkflow
from workflows.dossier import DossierWorkflow
from workflows.payloads import ConsultationResult, DossierInput

LINK = re.compile(r"/cra/avis/(\S+)")




async def _serve(server: uvicorn.Server, port: int) -> None:
    """uvicorn exits (``SystemExit``) when it cannot start; in a task that ends the test
    process's event loop, and every later test of the process with it: a plain error instead."""
    try:
        await server.serve()
    except SystemExit as exc:
        raise RuntimeError(f"uvicorn could not start on 127.0.0.1:{port}") from exc


@asynccontextmanager
async def serve(app: FastAPI, port: int) -> AsyncIterator[None]:
    """The app on a real HTTP server, in this event loop."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", proxy_headers=False))
    task = asyncio.create_task(_serve(server, port))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await task


def site_settings(stack: Stack, base_url: str, **pages: Any) -> Settings:
    settings = stack.settings.model_copy(deep=True)
    settings.cra_pages = CraPageSettings(secret="test-page-secret", **pages)  # type: ignore[arg-type]
    settings.api.public_base_url = base_url
    return settings


@dataclass
class Site:
    stack: Stack
    client: Client
    task_queue: str
    base_url: str
    app: FastAPI

    @property
    def signer(self) -> LinkSigner:
        return LinkSigner.from_settings(self.stack.settings.links)

    def url(self, token: str, suffix: str = "") -> str:
        return f"{self.base_url}/cra/avis/{token}{suffix}"

    async def start(self, index: int = 0, policy: Policy = FAST_POLICY) -> int:
        """Files a sample dossier and starts its workflow; returns once the CRAs are consulted."""
        number = await self.stack.file(index)
        handle = await self.client.start_workflow(
            DossierWorkflow.run, DossierInput(number=number, demarche=1001, policy=policy),
            id=dossier_workflow_id(number), task_queue=self.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and s.consultations)
        return number

    async def tokens(self, number: int, expected: int = 2) -> dict[str, str]:
        """Member email -> token, read from the invitations in the SMTP sink."""
        for _ in range(200):
            mails = [m for m in await self.stack.emails(subject="demandé")
                     if f"n° {number} –" in m["subject"]]
            if len(mails) >= expected:
                return {m["to"][0]: LINK.findall(m["text"])[0] for m in mails}
            await asyncio.sleep(0.05)
        raise AssertionError(f"invitations for dossier {number} not received")

    def consultation(self, number: int, region: str) -> WorkflowHandle[Any, ConsultationResult]:
        return self.client.get_workflow_handle_for(
            CraConsultationWorkflow.run, consultation_workflow_id(number, region))

    async def state(self, number: int, region: str) -> ConsultationResult:
        result: ConsultationResult = await self.consultation(number, region).query(
            CraConsultationWorkflow.consultation)
        return result

    async def audit(self, **filters: Any) -> list[CraLinkAccess]:
        async with self.stack.res.db.unit_of_work() as session:
            return await CraLinkAccessRepository(session).list_for(**filters)

    async def set_active(self, member_id: str, active: bool) -> None:
        async with self.stack.res.db.unit_of_work() as session:
            member = await CraMemberRepository(session).get(member_id)
            assert member is not None
            member.active = active

    def mint(self, number: int, region: str, member: str, deadline_in: timedelta = timedelta(days=1),
             **overrides: Any) -> str:
        """A validly signed token, for what real emails never carry."""
        deadline = datetime.now(UTC) + deadline_in
        claims = LinkClaims(dossier=number, region=region, member=member, deadline=deadline,
                            exp=deadline + timedelta(days=1))
        return self.signer.sign(claims.model_copy(update=overrides))


@asynccontextmanager
async def running_site(stack: Stack, client: Client, **pages: Any) -> AsyncIterator[Site]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    app = create_app(site_settings(stack, base_url, **pages), temporal=client, db=stack.res.db)
    async with stack.worker(client) as worker, serve(app, port):
        yield Site(stack, client, worker.task_queue, base_url, app)
