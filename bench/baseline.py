"""The baseline: the bare workflow pair (``bench.bare``) on the same Temporal server, driven
like the service by ``bench.e2e``, through a Temporal client instead of HTTP.

The worker runs in a process of its own (its CPU is measured as the service's worker's is), on
its own task queue, with the default data converter; the bare child's "invitation" activity runs
here, on the driver's queue, and notes the arrival where the service's driver reads the mailbox.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager

from temporalio import activity
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.worker import Worker

from bench.bare import BareConsultation, BareDossier
from bench.bare_worker import READY
from bench.public import Refused


class BareDriver:
    def __init__(self, client: Client, run: str) -> None:
        self._client, self.run = client, run
        self._arrived: dict[int, float] = {}
        self.pid = 0  # the bare worker's process

    def workflow_id(self, number: int) -> str:
        return f"bench-bare-{self.run}-{number}"

    @property
    def task_queue(self) -> str:
        return f"bench-bare-{self.run}"

    @activity.defn(name="invite")
    async def invite(self, number: int) -> None:
        self._arrived.setdefault(number, time.time())

    async def file(self, i: int) -> int:
        number = i + 1
        # Signal-with-start, as the intake does.
        await self._client.start_workflow(BareDossier.run, number, id=self.workflow_id(number),
                                          task_queue=self.task_queue,
                                          start_signal="dossier_changed")
        return number

    async def filed(self) -> None:
        pass

    async def invitations(self) -> dict[int, float]:
        return self._arrived

    @staticmethod
    async def _timed(update: Awaitable[object]) -> float:
        started = time.perf_counter()
        try:
            await update
        except WorkflowUpdateFailedError as exc:
            raise Refused(str(exc.cause)) from exc
        return time.perf_counter() - started

    def _parent(self, number: int) -> WorkflowHandle[BareDossier, str]:
        return self._client.get_workflow_handle_for(BareDossier.run, self.workflow_id(number))

    async def answer(self, number: int) -> float:
        child = self._client.get_workflow_handle_for(BareConsultation.run,
                                                     f"{self.workflow_id(number)}-cra")
        return await self._timed(child.execute_update(BareConsultation.submit_opinion, "favourable"))

    async def admissibility(self, number: int) -> float:
        return await self._timed(self._parent(number).execute_update(
            BareDossier.confirm_admissibility))

    async def eligibility(self, number: int) -> float:
        return await self._timed(self._parent(number).execute_update(BareDossier.record_eligibility))

    async def decision(self, number: int) -> float:
        return await self._timed(self._parent(number).execute_update(
            BareDossier.record_decision, "laureat"))

    async def closed(self, number: int) -> bool:
        status = (await self._parent(number).describe()).status
        return status is WorkflowExecutionStatus.COMPLETED


@asynccontextmanager
async def bare_worker(client: Client, address: str) -> AsyncIterator[BareDriver]:
    """The bare worker in its own process (``bench.bare_worker``: ``driver.pid``); the
    "invite" activity here, on the driver's own queue."""
    driver = BareDriver(client, uuid.uuid4().hex[:8])
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.bare_worker", address, client.namespace, driver.task_queue,
        stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
        if line.decode().strip() != READY:
            raise RuntimeError(f"bare worker did not start: {line!r}")
        driver.pid = process.pid
        async with Worker(client, task_queue=f"{driver.task_queue}-driver",
                          activities=[driver.invite]):
            yield driver
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()
