"""Process-level chaos: the embedded stack runs as separate processes (as ``make run`` does)
with three workers on the one task queue, as in production; random workers are killed with
SIGKILL at random moments and restarted, the Temporal dev server is restarted once, the SMTP
sink is down for a few seconds, the platform answers 500, slowly, then 429, and the API token
expires for a few seconds (401 "Token expired", then renewed), all while 30 dossiers go from
filing to decision (45 consultations; half the dossiers are held before their decision until the
last trouble has passed, so every trouble meets dossiers in flight).

Every dossier finishes; every platform mutation is applied once; every email is delivered and
none is sent twice under two identities. SMTP gives a sender no way to learn whether a message
it handed over was kept when it dies after the server's "250 OK" and before it records the
sending (or when the server dies before answering): such a message goes again, with the same
Message-ID, on which receivers deduplicate. Exactly-once delivery needs the receiver's help;
the test proves the rest: an email recorded as sent never goes again (a second delivery is
always the one that recorded it), and none goes under another Message-ID.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import select
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError

from activities.mail.activities import message_id_for
from api.cli.demo import sample
from api.cli.dev import worker_names
from api.cli.stack import ProcessStack
from core.db.engine import Database, create_engine
from core.db.tables import AlertClaim, SentEmail
from core.domain.procedure import Outcome, Stage
from core.ids import dossier_workflow_id
from tests.support import CONVERTER
from tests.workflows.helpers import admissible, consultation, decision, opinion
from workflows.consultation import CraConsultationWorkflow
from workflows.dossier import DossierWorkflow
from workflows.payloads import DossierResult, DossierStatus

DOSSIERS = 30
WORKERS = 3
WORKER_KILLS = 4
SECOND = timedelta(seconds=1)  # SQLite's CURRENT_TIMESTAMP, the ``sent_at`` default, has 1 s
T = TypeVar("T")


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[ProcessStack]:
    # The intake polls every 2 s (30 s in production): new dossiers are picked up at once, and
    # the token's 3 s expiry always meets a poll. Every second cost 5 s more of CPU.
    stack = ProcessStack(tmp_path / "var", log_dir=tmp_path / "logs", workers=WORKERS,
                         extra_env={"PTCE_PLATFORM__POLL_INTERVAL_SECONDS": "2"})
    with stack:
        yield stack
    for log in sorted((tmp_path / "logs").glob("*.log")):  # on failure, pytest shows these
        print(f"--- {log.name} (last lines)\n" + "\n".join(log.read_text().splitlines()[-15:]))


async def _retrying(call: Callable[[], Awaitable[T]], timeout: float = 180.0) -> T:
    """Calls Temporal until it answers: the worker or the server may be down for a while."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await asyncio.wait_for(call(), 20)
        except (RPCError, TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _until(handle: WorkflowHandle[DossierWorkflow, Any],
                 predicate: Callable[[DossierStatus], bool]) -> DossierStatus:
    for _ in range(150):
        status: DossierStatus = await _retrying(partial(handle.query, DossierWorkflow.status))
        if predicate(status):
            return status
        # Every 2 s: asked every half second, fifty dossiers made a hundred queries a second, each
        # a task the workers took before the dossiers' own (a query to a dossier that a killed
        # worker held replays its whole history), and the run waited on its own questions.
        await asyncio.sleep(2)
    raise AssertionError(f"{handle.id} stuck: {status}")


async def _drive(client: Client, number: int, hold: asyncio.Event | None) -> DossierResult:
    """BESSII and the CRA act on one dossier; every Update has an id, so a retry after an
    outage is the same request, not a second one. With ``hold``, BESSII decides only once it is
    set (the troubles are over): dossiers are still in flight when the last trouble comes.
    A failure names the dossier, its step and the causes (an Update's refusal is in its cause)."""
    handle = client.get_workflow_handle_for(DossierWorkflow.run, dossier_workflow_id(number))
    step = "started by the intake"
    try:
        await _retrying(handle.describe)
        step = "consultations open"
        status = await _until(handle, lambda s: s.stage is Stage.ADMISSIBILITY
                              and s.dossier is not None
                              and len(s.consultations) == len(s.dossier.regions))
        for view in status.consultations:
            step = f"opinion of region {view.region}"
            child = consultation(client, number, view.region)
            await _retrying(partial(child.execute_update, CraConsultationWorkflow.submit_opinion,
                                    opinion(f"cra-{view.region}-ess"), id=f"opinion-{view.region}"))
        step = "admissibility"
        await _retrying(partial(handle.execute_update, DossierWorkflow.confirm_admissibility,
                                admissible(), id="admissibility"))
        step = "instruction with every opinion"
        await _until(handle, lambda s: s.stage is Stage.INSTRUCTION
                     and all(c.opinion for c in s.consultations))
        if hold is not None:
            await hold.wait()
        step = "decision"
        await _retrying(partial(handle.execute_update, DossierWorkflow.record_decision,
                                decision(Outcome.LAUREAT), id="decision"))
        step = "result"
        return await _retrying(handle.result, timeout=300)
    except Exception as exc:
        causes, cause = [], exc.__cause__ or getattr(exc, "cause", None)
        while cause is not None and len(causes) < 5:
            causes.append(repr(cause))
            cause = cause.__cause__ or getattr(cause, "cause", None)
        raise AssertionError(f"dossier {number}, step {step!r}: {exc!r}; causes: {causes}") from exc


async def _platform_trouble(platform: httpx.AsyncClient) -> None:
    """500 three times, then three answers slowed by 2.5 s, then 429 twice (Retry-After: 1)."""
    for fault, lasting in (({"status": 500, "count": 3}, 1.5), ({"delay_ms": 2500, "count": 3}, 3),
                           ({"status": 429, "count": 2, "retry_after": 1}, 0)):
        (await platform.post("/_standin/faults", json=fault)).raise_for_status()
        await asyncio.sleep(lasting)


async def _token_expiry(stack: ProcessStack, platform: httpx.AsyncClient) -> None:
    """The API token expires (every call answers 401 "Token expired") for 3 s, then renewed."""
    token = stack.settings().platform.token.get_secret_value()
    (await platform.post("/_standin/tokens", json={"token": token, "expired": True})
     ).raise_for_status()
    await asyncio.sleep(3)
    (await platform.post("/_standin/tokens", json={"token": token, "expired": False})
     ).raise_for_status()


async def _smtp_outage(stack: ProcessStack) -> None:
    """The SMTP sink disappears (connections refused) for 3 s, then comes back."""
    await asyncio.to_thread(stack.kill, "mailbox")
    await asyncio.sleep(3)
    await asyncio.to_thread(stack.start, "mailbox")


KILLS = ["worker"] * WORKER_KILLS
TROUBLES = ["temporal", "smtp", "platform", "token"]


async def _havoc(stack: ProcessStack, platform: httpx.AsyncClient, rng: random.Random
                 ) -> list[str]:
    """Each trouble once, a random worker's SIGKILL several times: two lanes at once (the kills;
    the server, SMTP, platform and token troubles), each in a random order and rhythm, so that
    troubles also overlap."""
    events: list[str] = []

    async def lane(plan: list[str]) -> None:
        plan = list(plan)
        rng.shuffle(plan)
        for name in plan:
            await asyncio.sleep(rng.uniform(1.0, 3.0))
            if name == "worker":
                victim = rng.choice(worker_names(WORKERS))
                await asyncio.to_thread(stack.restart, victim, signal.SIGKILL)
                name = victim
            elif name == "temporal":  # the dev server keeps its state in its SQLite file
                await asyncio.to_thread(stack.restart, "temporal", signal.SIGTERM)
            elif name == "smtp":
                await _smtp_outage(stack)
            elif name == "token":
                await _token_expiry(stack, platform)
            else:
                await _platform_trouble(platform)
            events.append(name)

    await asyncio.gather(lane(KILLS), lane(TROUBLES))
    return events


async def test_worker_kills_and_a_server_restart_lose_and_double_nothing(
        processes: ProcessStack) -> None:
    seed = int(os.environ.get("PTCE_CHAOS_SEED", random.randrange(1 << 32)))
    print(f"chaos seed {seed} (PTCE_CHAOS_SEED={seed} replays the same schedule)")
    rng = random.Random(seed)
    urls = processes.base_urls
    # The stand-ins answer the test as they answer the workers: slowly, on a loaded machine (a
    # filing once took more than httpx's default 5 s while four test processes ran).
    async with (httpx.AsyncClient(base_url=urls["platform"], timeout=30) as platform,
                httpx.AsyncClient(base_url=urls["mailbox"], timeout=30) as mailbox):
        numbers = []
        for i in range(DOSSIERS):
            _, fields = sample(i % 2)  # the two complete samples: one and two regions
            r = await platform.post("/_standin/dossiers", json={
                "usager_email": fields["referent_email"], "fields": fields})
            r.raise_for_status()
            numbers.append(int(r.json()["number"]))

        client = await Client.connect(urls["temporal"], data_converter=CONVERTER)
        over = asyncio.Event()
        havoc = asyncio.create_task(_havoc(processes, platform, rng))
        havoc.add_done_callback(lambda _: over.set())
        # Half the dossiers wait for the troubles to end before their decision: every trouble
        # comes while dossiers are in flight, however fast the others go.
        results = await asyncio.wait_for(asyncio.gather(
            *(_drive(client, n, over if i % 2 else None) for i, n in enumerate(numbers))), 420)
        events = await havoc
        print(f"chaos events: {events}")
        assert sorted("worker" if e.startswith("worker") else e for e in events) == sorted(
            KILLS + TROUBLES)
        # A worker restarted while the server restarted waited for it (it used to exit).
        down = [name for name in worker_names(WORKERS)
                if processes.children[name].process.poll() is not None]  # type: ignore[union-attr]
        assert down == [], f"workers that exited: {down}"

        assert [r.outcome for r in results] == [Outcome.LAUREAT] * DOSSIERS  # none lost
        failed = [w.id async for w in client.list_workflows("ExecutionStatus = 'Failed'")]
        assert failed == [], failed
        for n in numbers:
            assert (await platform.get(f"/_standin/dossiers/{n}")).json()["state"] == "accepte"
            names = [m["name"] for m in (await platform.get(
                "/_standin/mutations", params={"dossier": n})).json()]
            assert names.count("dossierPasserEnInstruction") == 1, (n, names)
            assert names.count("dossierAccepter") == 1, (n, names)
        messages: list[dict[str, Any]] = (await mailbox.get("/api/messages")).json()

    db = Database(create_engine(processes.settings().effective_database_url))
    try:
        async with db.unit_of_work() as session:
            recorded = {row.message_id: row.sent_at.replace(tzinfo=UTC)
                        for row in await session.scalars(select(SentEmail))}
            claimed = {message_id_for(key) for key in await session.scalars(select(AlertClaim.key))}
    finally:
        await db.dispose()
    delivered = Counter(m["message_id"] for m in messages)
    assert set(recorded) <= set(delivered)  # every recorded email arrived
    # None unrecorded, but an admin alert whose worker was killed after the SMTP server's answer
    # and before the record: its claim keeps the others from sending it again that day (a later
    # failure takes the claim over after its lease, activities/alerts.py).
    assert set(delivered) - set(recorded) <= claimed, set(delivered) - set(recorded) - claimed
    redelivered = {k: n for k, n in delivered.items() if n > 1}
    print(f"{len(recorded)} emails, {sum(delivered.values())} SMTP deliveries, "
          f"{len(redelivered)} delivered twice with the same Message-ID")
    assert all(n == 2 for n in redelivered.values())
    for message_id in redelivered:
        last = max(datetime.fromisoformat(m["received_at"]) for m in messages
                   if m["message_id"] == message_id)
        # The first attempt never recorded its send (it died in between): an email recorded as
        # sent is never sent again, so the record comes from the attempt that delivered last.
        assert recorded[message_id] >= last.replace(microsecond=0) - SECOND, (
            message_id, recorded[message_id], last)
