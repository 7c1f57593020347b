"""The platform's legacy webhook: a secret URL that only wakes the démarche's sync workflow.

The API app is built with the real Temporal dev server's client and called over HTTP
(ASGI transport). The sync workflow is started on a task queue no worker listens to, so its
history shows exactly which signals the webhook sent; the last test runs a real sync worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.intake import IntakeActivities
from activities.platform.client import DsClient
from api.app import create_app
from core.db.engine import Database, create_engine, create_schema
from core.ids import dossier_workflow_id, sync_workflow_id
from core.mapping import load_mapping
from core.settings import ApiSettings, PlatformSettings, Settings
from tests.support import FAST_POLICY, TOKEN, stack
from workflows.sync import DemarcheSyncWorkflow, SyncInput

SECRET = "secret-du-webhook-0123456789"
FORM = {"procedure_id": "4242", "dossier_id": "31337", "state": "accepte",
        "updated_at": "2026-01-15 15:52:35 +0100"}


@dataclass
class Api:
    http: httpx.AsyncClient
    client: Client
    demarche: int  # unique per test: the sync workflow ids never collide on the shared server

    @property
    def sync_id(self) -> str:
        return sync_workflow_id(self.demarche)

    async def start_idle_sync(self) -> WorkflowHandle[DemarcheSyncWorkflow, None]:
        """The démarche's sync workflow, on a queue nobody polls: it only collects signals."""
        return await self.client.start_workflow(
            DemarcheSyncWorkflow.run, SyncInput(demarche=self.demarche), id=self.sync_id,
            task_queue=f"idle-{uuid.uuid4()}")

    async def signals(self) -> list[HistoryEvent]:
        history = await self.client.get_workflow_handle(self.sync_id).fetch_history()
        return [e for e in history.events
                if e.HasField("workflow_execution_signaled_event_attributes")]


def settings_for(tmp: Path, demarche: int) -> Settings:
    return Settings(
        environment="test", var_dir=tmp, database_url=f"sqlite+aiosqlite:///{tmp / 'api.db'}",
        api=ApiSettings(webhook_secret=SECRET),
        platform=PlatformSettings(demarche_number=demarche),
    )


@pytest.fixture
async def api(tmp_path: Path, dev_env: WorkflowEnvironment) -> AsyncIterator[Api]:
    demarche = 900_000 + uuid.uuid4().int % 99_999
    settings = settings_for(tmp_path, demarche)
    db = Database(create_engine(settings.effective_database_url))
    await create_schema(db.engine)
    app = create_app(settings=settings, temporal=dev_env.client, db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://api.test") as http:
        helper = Api(http, dev_env.client, demarche)
        try:
            yield helper
        finally:
            with contextlib.suppress(RPCError):  # not started, or already terminated
                await dev_env.client.get_workflow_handle(helper.sync_id).terminate("test over")
            await db.dispose()


async def not_found(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        return error.status is RPCStatusCode.NOT_FOUND
    return False


@pytest.mark.parametrize("secret", ["mauvais-secret", SECRET + "x", SECRET[:-1], SECRET.upper()])
async def test_wrong_secret_is_404_and_signals_nothing(api: Api, secret: str) -> None:
    await api.start_idle_sync()

    response = await api.http.post(f"/webhooks/ds/{secret}", data=FORM)

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "Ressource introuvable."}
    assert await api.signals() == []


async def test_wrong_secret_starts_nothing(api: Api) -> None:
    response = await api.http.post("/webhooks/ds/mauvais-secret", data=FORM)

    assert response.status_code == 404
    assert await not_found(api.client, api.sync_id)
    assert await not_found(api.client, dossier_workflow_id(int(FORM["dossier_id"])))


async def test_right_secret_is_202_and_one_sync_now(api: Api) -> None:
    await api.start_idle_sync()

    response = await api.http.post(f"/webhooks/ds/{SECRET}", data=FORM)

    assert response.status_code == 202
    assert response.json() == {"status": "synchronisation demandée"}
    [signal] = await api.signals()
    attrs = signal.workflow_execution_signaled_event_attributes
    assert attrs.signal_name == "sync_now"
    assert list(attrs.input.payloads) == []  # nothing from the body travels


async def test_the_body_is_never_trusted(api: Api) -> None:
    """Its fields name another démarche and a dossier: neither is touched, only a sync of
    the configured démarche is asked for. A garbage body does the same."""
    await api.start_idle_sync()

    form = await api.http.post(f"/webhooks/ds/{SECRET}", data=FORM)
    garbage = await api.http.post(f"/webhooks/ds/{SECRET}", content=b"\x00\xff{not: a form",
                                  headers={"Content-Type": "application/json"})
    empty = await api.http.post(f"/webhooks/ds/{SECRET}")

    assert [r.status_code for r in (form, garbage, empty)] == [202, 202, 202]
    signals = await api.signals()
    assert [s.workflow_execution_signaled_event_attributes.signal_name for s in signals] == [
        "sync_now"] * 3
    assert all(not s.workflow_execution_signaled_event_attributes.input.payloads for s in signals)
    assert await not_found(api.client, dossier_workflow_id(int(FORM["dossier_id"])))
    assert await not_found(api.client, sync_workflow_id(int(FORM["procedure_id"])))


async def test_right_secret_without_a_running_sync_is_503(api: Api) -> None:
    response = await api.http.post(f"/webhooks/ds/{SECRET}", data=FORM)

    assert response.status_code == 503
    assert response.json()["message"] == "Synchronisation indisponible, réessayez plus tard."
    assert await not_found(api.client, api.sync_id)  # the webhook never starts it


async def test_the_webhook_wakes_the_sync_before_its_interval(
        api: Api, tmp_path: Path, dev_env: WorkflowEnvironment) -> None:
    """A dossier filed after the last poll is picked up at once, not an hour later."""
    async with stack(tmp_path / "stack") as s:
        ds = DsClient(s.res.http, s.settings.platform.graphql_url, TOKEN)
        intake = IntakeActivities(ds, api.client, s.res.db, f"idle-{uuid.uuid4()}", FAST_POLICY,
                                  load_mapping())
        async with Worker(api.client, task_queue=f"sync-{uuid.uuid4()}",
                          workflows=[DemarcheSyncWorkflow],
                          activities=[intake.sync_demarche]) as worker:
            # Polls the stand-in's démarche; its id follows the API's configured démarche.
            sync = await api.client.start_workflow(
                DemarcheSyncWorkflow.run, SyncInput(demarche=1001, interval=timedelta(hours=1)),
                id=api.sync_id, task_queue=worker.task_queue)
            await until(lambda: polls(sync), 1)
            number = await s.file(0)

            response = await api.http.post(f"/webhooks/ds/{SECRET}", data=FORM)

            assert response.status_code == 202
            await until(lambda: started(api.client, number), True)
            await until(lambda: polls(sync), 2)  # the poll goes on to the deletion lists
            await sync.terminate("test over")
            await api.client.get_workflow_handle(dossier_workflow_id(number)).terminate("test over")


async def polls(handle: WorkflowHandle[DemarcheSyncWorkflow, None]) -> int:
    history = await handle.fetch_history()
    return sum(e.HasField("activity_task_completed_event_attributes") for e in history.events)


async def started(client: Client, number: int) -> bool:
    return not await not_found(client, dossier_workflow_id(number))


async def until(probe: Callable[[], Awaitable[object]], expected: object,
                timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await probe() == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{probe} never returned {expected!r}")
