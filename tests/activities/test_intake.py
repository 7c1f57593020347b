"""Intake against the platform stand-in on a real Temporal dev server.

The intake activity polls the stand-in like the sync workflow does, and signal-with-starts
``dossier-<n>`` workflows on a task queue no worker listens to: each workflow stays exactly
as intake left it, so its history shows every notice it was sent.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from opentelemetry import trace
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from activities import intake as intake_module
from activities.alerts import AdminAlerts
from activities.intake import IntakeActivities, SyncReport
from activities.mail.activities import MailActivities
from activities.platform.client import DsClient
from api.temporal import interceptors
from core.domain.procedure import DossierChanged, DossierInput
from core.ids import DOSSIER_CHANGED_SIGNAL, DOSSIER_WORKFLOW, dossier_workflow_id
from core.links import LinkSigner
from core.mapping import load_mapping
from tests.activities.standin import run
from tests.support import CONVERTER, FAST_POLICY, TOKEN, Stack, stack
from tests.telemetry import span_exporter

DEMARCHE = 1001


@dataclass
class Intake:
    stack: Stack
    client: Client
    activities: IntakeActivities
    started: set[int]

    async def sync(self) -> SyncReport:
        report: SyncReport = await run(self.activities.sync_demarche, DEMARCHE)
        return report

    async def history(self, number: int) -> list[HistoryEvent]:
        self.started.add(number)
        history = await self.client.get_workflow_handle(dossier_workflow_id(number)).fetch_history()
        return list(history.events)

    async def notices(self, number: int) -> list[DossierChanged]:
        """The ``dossier_changed`` signals the dossier's workflow received, in order."""
        notices = []
        for event in await self.history(number):
            if not event.HasField("workflow_execution_signaled_event_attributes"):
                continue
            attrs = event.workflow_execution_signaled_event_attributes
            assert attrs.signal_name == DOSSIER_CHANGED_SIGNAL
            [notice] = await self.client.data_converter.decode(
                list(attrs.input.payloads), [DossierChanged])
            notices.append(notice)
        return notices


@pytest.fixture
async def intake(tmp_path: Path, dev_env: WorkflowEnvironment) -> AsyncIterator[Intake]:
    async with stack(tmp_path) as s:
        ds = DsClient(s.res.http, s.settings.platform.graphql_url, TOKEN)
        mail = MailActivities(s.settings.smtp, s.res.db, LinkSigner.from_settings(s.settings.links),
                              s.settings.api.public_base_url)
        activities = IntakeActivities(ds, dev_env.client, s.res.db, f"idle-{uuid.uuid4()}",
                                      FAST_POLICY, load_mapping(), AdminAlerts(mail, s.res.db))
        helper = Intake(s, dev_env.client, activities, set())
        try:
            yield helper
        finally:
            for number in helper.started:
                handle = dev_env.client.get_workflow_handle(dossier_workflow_id(number))
                if (await handle.describe()).status is WorkflowExecutionStatus.RUNNING:
                    await handle.terminate("test over")


async def test_new_dossiers_are_picked_up_by_polling(intake: Intake) -> None:
    first, second = await intake.stack.file(0), await intake.stack.file(1)

    report = await intake.sync()

    assert (report.changed, report.dispatched) == (2, 2)
    for number in (first, second):
        handle = intake.client.get_workflow_handle(dossier_workflow_id(number))
        described = await handle.describe()
        assert described.workflow_type == DOSSIER_WORKFLOW
        assert described.status is WorkflowExecutionStatus.RUNNING
        started = (await intake.history(number))[0].workflow_execution_started_event_attributes
        [payload] = await intake.client.data_converter.decode(
            list(started.input.payloads), [DossierInput])
        assert (payload.number, payload.demarche) == (number, DEMARCHE)
        assert len(await intake.notices(number)) == 1

    # Nothing changed since: the next poll starts and signals nothing.
    again = await intake.sync()
    assert (again.changed, again.dispatched) == (0, 0)
    assert len(await intake.notices(first)) == 1


async def test_a_call_stops_at_its_time_budget_and_the_next_goes_on_from_there(
        intake: Intake, monkeypatch: pytest.MonkeyPatch) -> None:
    numbers = [await intake.stack.file(i % 2) for i in range(3)]
    monkeypatch.setattr(intake_module, "PAGE_SIZE", 1)
    monkeypatch.setattr(intake_module, "SYNC_BUDGET", timedelta(0))  # one page per call

    reports = [await intake.sync() for _ in range(3)]
    assert [(r.changed, r.more) for r in reports] == [(1, True), (1, True), (1, False)]
    for number in numbers:  # each dossier picked up once, in filing order
        assert len(await intake.notices(number)) == 1
    assert (await intake.sync()).changed == 0


async def test_a_dossier_changed_three_times_is_one_workflow_with_three_notices(
        intake: Intake) -> None:
    number = await intake.stack.file(2)
    await intake.sync()
    run_id = (await intake.client.get_workflow_handle(dossier_workflow_id(number)).describe()).run_id

    # Three quick edits, a poll after each: usually within one second, i.e. with the same
    # dateDerniereModification (shown to the second); the cursor still tells them apart.
    for statutes in (["statuts.pdf"], ["statuts-signes.pdf"], ["statuts-signes-v2.pdf"]):
        await intake.stack.edit(number, statutes=statutes)
        report = await intake.sync()
        assert (report.changed, report.dispatched) == (1, 1)
    await intake.sync()  # and a poll with nothing new

    events = await intake.history(number)
    assert sum(e.HasField("workflow_execution_started_event_attributes") for e in events) == 1
    handle = intake.client.get_workflow_handle(dossier_workflow_id(number))
    assert (await handle.describe()).run_id == run_id
    notices = await intake.notices(number)
    assert len(notices) == 1 + 3  # filed, then changed three times
    assert not any(n.deleted for n in notices)
    dates = [n.updated_at for n in notices]
    assert all(d is not None for d in dates)
    assert dates == sorted(dates)  # type: ignore[type-var]


async def test_an_applicants_deletion_is_told_at_once_and_a_restoration_too(
        intake: Intake) -> None:
    """The applicant's deletion only hides the dossier (``pendingDeletedDossiers``); restoring
    it moves ``updated_at``, so it comes back through ``dossiers``."""
    kept, deleted = await intake.stack.file(0), await intake.stack.file(1)
    await intake.sync()

    (await intake.stack.platform.delete(f"/_standin/dossiers/{deleted}")).raise_for_status()
    report = await intake.sync()

    assert (report.hidden, report.deleted) == (1, 0)
    notices = await intake.notices(deleted)
    assert [(n.hidden, n.deleted) for n in notices] == [(False, False), (True, False)]
    assert [n.hidden for n in await intake.notices(kept)] == [False]
    assert (await intake.sync()).hidden == 0  # still listed, not told twice

    (await intake.stack.platform.post(f"/_standin/dossiers/{deleted}/restore")).raise_for_status()
    report = await intake.sync()
    assert (report.changed, report.dispatched) == (1, 1)
    assert [(n.hidden, n.deleted) for n in await intake.notices(deleted)] == [
        (False, False), (True, False), (False, False)]


async def test_the_purge_is_told_as_a_deletion(intake: Intake) -> None:
    number = await intake.stack.file(0)
    await intake.sync()
    (await intake.stack.platform.delete(f"/_standin/dossiers/{number}")).raise_for_status()
    await intake.sync()

    purged = await intake.stack.platform.post("/_standin/purge", json={"older_than_seconds": 0})
    assert purged.json()["purged"] == [number]
    report = await intake.sync()

    assert report.deleted == 1
    assert [(n.hidden, n.deleted) for n in await intake.notices(number)] == [
        (False, False), (True, False), (False, True)]
    assert (await intake.sync()).deleted == 0  # re-read (back-dated rows), not told twice


async def test_101_deletions_are_all_seen(intake: Intake) -> None:
    """More than one page (100) of each list, with its own cursor."""
    numbers = [await intake.stack.file(i % 2) for i in range(101)]
    assert (await intake.sync()).dispatched == 101
    for number in numbers:
        (await intake.stack.platform.delete(f"/_standin/dossiers/{number}")).raise_for_status()

    assert (await intake.sync()).hidden == 101
    await intake.stack.platform.post("/_standin/purge", json={"older_than_seconds": 0})
    report = await intake.sync()

    assert report.deleted == 101
    for number in numbers:
        assert [(n.hidden, n.deleted) for n in (await intake.notices(number))[1:]] == [
            (True, False), (False, True)]


async def test_a_deletion_of_a_dossier_never_seen_starts_nothing(intake: Intake) -> None:
    number = await intake.stack.file(0)
    r = await intake.stack.platform.delete(f"/_standin/dossiers/{number}")
    r.raise_for_status()

    report = await intake.sync()

    assert (report.changed, report.dispatched, report.deleted) == (0, 0, 0)
    with pytest.raises(RPCError) as missing:
        await intake.client.get_workflow_handle(dossier_workflow_id(number)).describe()
    assert missing.value.status is RPCStatusCode.NOT_FOUND


async def test_each_new_dossier_starts_its_own_trace_linked_to_the_poll(
        intake: Intake, dev_env: WorkflowEnvironment) -> None:
    exporter = span_exporter()
    # The worker's client carries the trace context (api.temporal.interceptors).
    intake.activities._temporal = Client(
        dev_env.client.service_client, namespace=dev_env.client.namespace,
        data_converter=CONVERTER, interceptors=interceptors())
    numbers = [await intake.stack.file(0), await intake.stack.file(1)]
    intake.started.update(numbers)

    with trace.get_tracer("tests").start_as_current_span("poll") as poll:
        await intake.sync()

    spans = list(exporter.get_finished_spans())
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    ids = {dossier_workflow_id(n) for n in numbers}
    starts = [s for s in spans if s.name == "SignalWithStartWorkflow:DossierWorkflow"
              and s.attributes and s.attributes.get("temporalWorkflowID") in ids]
    assert len(starts) == 2
    traces = {s.context.trace_id for s in starts if s.context is not None}
    assert len(traces) == 2 and poll.get_span_context().trace_id not in traces
    for start in starts:
        assert start.parent is not None
        root = by_id[start.parent.span_id]
        assert root.name == "intake new dossier" and root.parent is None
        assert [link.context.span_id for link in root.links] == [poll.get_span_context().span_id]
