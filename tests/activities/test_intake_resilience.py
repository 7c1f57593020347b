"""Intake under what the platform really does: a poison dossier, a late commit, a dossier
closed long ago, the rate limit in the middle of a page."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.intake import IntakeActivities, SyncReport
from activities.platform.client import DsClient
from api.cli.binaries import temporal_cli
from api.cli.ports import free_port
from core.db.repositories import RecordRepository
from core.db.tables import QuarantinedDossier
from core.ids import dossier_workflow_id
from core.mapping import load_mapping
from tests.activities.standin import run
from tests.activities.test_intake import DEMARCHE, Intake, intake  # noqa: F401 (fixture)
from tests.support import CONVERTER, FAST_POLICY, TOKEN, stack
from workflows import search_attributes


async def _quarantined(i: Intake) -> dict[int, QuarantinedDossier]:
    async with i.stack.res.db.unit_of_work() as session:
        return {row.number: row for row in await session.scalars(select(QuarantinedDossier))}


async def _started(i: Intake, number: int) -> bool:
    try:
        await i.client.get_workflow_handle(dossier_workflow_id(number)).describe()
    except RPCError as exc:
        assert exc.status is RPCStatusCode.NOT_FOUND
        return False
    i.started.add(number)
    return True


async def test_a_poison_dossier_is_quarantined_and_the_next_one_still_starts(
        intake: Intake) -> None:  # noqa: F811
    poison = await intake.stack.file(0)
    (await intake.stack.platform.post(f"/_standin/dossiers/{poison}/flags",
                                      json={"bad_data": True})).raise_for_status()
    healthy = await intake.stack.file(1)

    report = await intake.sync()

    assert (report.quarantined, report.dispatched) == (1, 1)
    assert not await _started(intake, poison) and await _started(intake, healthy)
    [row] = (await _quarantined(intake)).values()
    assert row.number == poison
    assert "Cannot return null for non-nullable field Dossier.dateDepot" in row.error
    alerts = await intake.stack.emails(subject=f"Dossier n° {poison} mis à l’écart")
    assert len(alerts) == 1  # to the admins (an alerting intake: see the fixture)

    # Later polls go on without it; once the row is fixed, its own retry starts it.
    assert (await intake.sync()).quarantined == 0
    (await intake.stack.platform.post(f"/_standin/dossiers/{poison}/flags",
                                      json={"bad_data": False})).raise_for_status()
    async with intake.stack.res.db.unit_of_work() as session:
        (await session.get(QuarantinedDossier, poison)).next_attempt_at = datetime.now(UTC)  # type: ignore[union-attr]
    report = await intake.sync()
    assert (report.released, report.dispatched) == (1, 1)
    assert await _started(intake, poison) and await _quarantined(intake) == {}


async def test_a_change_committed_late_is_seen_by_the_next_poll(intake: Intake) -> None:  # noqa: F811
    """A row stamped before the persisted cursor (its transaction committed after a later row
    was read and passed) is read again by the overlap of the next poll."""
    first = await intake.stack.file(0)
    await intake.sync()
    late = await intake.stack.file(1)
    with sqlite3.connect(intake.stack.settings.var_dir / "platform.db") as db:
        first_at = db.execute("SELECT updated_at FROM dossiers WHERE number = ?",
                              (first,)).fetchone()[0]
        db.execute("UPDATE dossiers SET updated_at = ? WHERE number = ?",
                   (first_at - 30_000_000, late))  # 30 s before the cursor

    report = await intake.sync()

    assert (report.changed, report.dispatched) == (1, 1)
    assert await _started(intake, late)
    assert (await intake.sync()).changed == 0  # re-read by the overlap, not dispatched twice


async def test_a_closed_record_never_gets_a_second_workflow(intake: Intake) -> None:  # noqa: F811
    """Past Temporal's retention the workflow id is free again: the service's own record
    says the dossier is closed, and a late echo starts nothing."""
    number = await intake.stack.file(0)
    async with intake.stack.res.db.unit_of_work() as session:
        await RecordRepository(session).upsert(number, DEMARCHE, stage="closed")

    report = await intake.sync()

    assert (report.changed, report.dispatched, report.finished) == (1, 0, 1)
    assert not await _started(intake, number)


async def test_a_dossier_closed_and_forgotten_by_temporal_is_not_started_again(
        tmp_path: Path) -> None:
    """What the end of the namespace's retention does to a closed dossier, done at once: its
    workflow started by the intake on one Temporal server, the dossier closed (the service's
    record), then a Temporal server that has never heard of it (an in-memory one started
    afresh: nothing retained). The applicant edits it on the platform: no second
    ``DossierWorkflow`` starts, whatever the retention."""
    async with stack(tmp_path) as s:
        async def poll(env: WorkflowEnvironment) -> SyncReport:
            ds = DsClient(s.res.http, s.settings.platform.graphql_url, TOKEN)
            activities = IntakeActivities(ds, env.client, s.res.db, f"idle-{uuid.uuid4()}",
                                          FAST_POLICY, load_mapping())
            report: SyncReport = await run(activities.sync_demarche, DEMARCHE)
            return report

        number = await s.file(0)
        first = await _server()
        try:
            assert (await poll(first)).dispatched == 1
            handle = first.client.get_workflow_handle(dossier_workflow_id(number))
            await handle.terminate("closed")  # the dossier's end: its record says closed
            async with s.res.db.unit_of_work() as session:
                await RecordRepository(session).upsert(number, DEMARCHE, stage="closed")
        finally:
            await first.shutdown()

        await s.edit(number, project_name="Pôle relancé après la clôture")
        forgetful = await _server()
        try:
            report = await poll(forgetful)
            assert (report.changed, report.dispatched, report.finished) == (1, 0, 1)
            with pytest.raises(RPCError) as gone:
                await forgetful.client.get_workflow_handle(dossier_workflow_id(number)).describe()
            assert gone.value.status is RPCStatusCode.NOT_FOUND
        finally:
            await forgetful.shutdown()


async def _server() -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(
        namespace="ptce", dev_server_existing_path=str(temporal_cli()), data_converter=CONVERTER,
        search_attributes=search_attributes.ALL, dev_server_log_level="error", port=free_port())


async def test_the_rate_limit_is_waited_out_in_place_with_heartbeats(intake: Intake) -> None:  # noqa: F811
    numbers = [await intake.stack.file(0), await intake.stack.file(1)]
    beats: list[object] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.extend(details)
    # The page, then the first new dossier's read: throttled, for a second each.
    await intake.stack.platform.post("/_standin/faults",
                                     json={"status": 429, "count": 2, "retry_after": 1})

    report: SyncReport = await env.run(intake.activities.sync_demarche, DEMARCHE)

    assert report.dispatched == 2  # one call: nothing failed, nothing read twice
    assert "rate limited" in beats and "rate limit reset" in beats
    for number in numbers:
        assert await _started(intake, number)
    assert (await intake.stack.platform.get("/_standin/faults")).json()["count"] == 0
