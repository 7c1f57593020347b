"""Intake: cursor polling of a démarche, then signal-with-start of each changed dossier.

The platform's official way to receive changes is polling ``dossiers(updatedSince, after)``
with a persisted cursor (the legacy webhook is unsigned, unretried and deprecated). Delivery is
at-least-once, so we dedupe, and a dossier's workflow is started or signalled, never started
twice (its id is the dossier number), nor started again once the service's record says closed.

The dedupe key is each edge's cursor, not ``dateDerniereModification``: the date is shown to
the second, so two changes within one second would look like one and the second would be
lost, while the cursor carries the platform's full ``updated_at`` (nanoseconds) and the number
(``Connections::CursorConnection#cursor_for``). A key we cannot read costs at worst one
duplicate notice, which is harmless: the workflow re-reads the dossier anyway.

Each call also reads, with cursors of their own, the dossiers their applicant deleted
(``pendingDeletedDossiers``: hidden, restorable; each workflow is told at once) and the purged
ones (``deletedDossiers``). A new dossier the intake cannot read or map is quarantined
(``activities/intake_quarantine.py``): recorded, alerted, retried on its own; the rest goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from opentelemetry import context as otel_context
from opentelemetry import trace
from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.alerts import AdminAlerts
from activities.heartbeats import beats_itself
from activities.intake_cursors import DELETED_OVERLAP, OVERLAP, Pager, later, overlapped, prune
from activities.intake_quarantine import Quarantine, is_poison
from activities.platform.client import DsClient, PlatformError, PlatformNotFound
from core.db.engine import Database
from core.db.repositories import IntakeListRepository, RecordRepository, SyncCursorRepository
from core.domain.policy import Policy
from core.domain.procedure import DossierChanged, DossierInput, Stage
from core.ids import DOSSIER_CHANGED_SIGNAL, DOSSIER_WORKFLOW, dossier_workflow_id
from core.mapping import DemarcheMapping, map_dossier
from core.summaries import dossier_details, dossier_summary

_tracer = trace.get_tracer("ptce.intake")
SYNC_EPOCH = datetime(2024, 3, 25, tzinfo=UTC)  # the call opened on 25 March 2024
SYNC_BUDGET = timedelta(minutes=2)  # one call's work; well within its 10-minute timeout
PAGE_SIZE = 100  # the platform's maximum
SAVE_EVERY = 2.0  # seconds: what a page has dispatched is saved as it goes (a retry skips it)
# list -> (operation, field of the démarche, overlap of its re-reads)
_LISTS = {"pending": ("pending_deleted_dossiers", "pendingDeletedDossiers", OVERLAP),
          "deleted": ("deleted_dossiers", "deletedDossiers", DELETED_OVERLAP)}


class SyncReport(BaseModel):
    pages: int = 0
    changed: int = 0
    dispatched: int = 0  # signal-with-start: started, or signalled when already running
    finished: int = 0  # changes of dossiers whose workflow already ended (our own echoes)
    hidden: int = 0  # deleted by their applicant (restorable): their workflow was told
    deleted: int = 0  # purged: their workflow was told
    quarantined: int = 0  # new dossiers set aside (unreadable or unmappable)
    released: int = 0  # quarantined dossiers read at last, and started
    more: bool = False  # stopped at its time budget with pages left: call again at once


class IntakeActivities:
    def __init__(self, ds: DsClient, temporal: Client, db: Database, task_queue: str,
                 policy: Policy, mapping: DemarcheMapping, alerts: AdminAlerts | None = None) -> None:
        self._ds = ds
        self._mapping = mapping
        self._temporal = temporal
        self._db = db
        self._task_queue = task_queue
        self._policy = policy
        self._alerts = alerts
        self._quarantine = Quarantine(db, alerts)

    # ----------------------------------------------------------------- one dossier

    async def _start_or_signal(self, demarche: int, number: int, changed: DossierChanged,
                               report: SyncReport, pager: Pager) -> None:
        handle = self._temporal.get_workflow_handle(dossier_workflow_id(number))
        try:
            running = (await handle.describe()).status is WorkflowExecutionStatus.RUNNING
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
        else:
            if not running:
                report.finished += 1  # our own last mutations echo back after the end
                return
            try:
                await handle.signal(DOSSIER_CHANGED_SIGNAL, changed)
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
                report.finished += 1  # it ended between the two calls
                return
            report.dispatched += 1
            return
        if await self._closed(number):
            report.finished += 1  # ended long ago (past Temporal's retention): never again
            return
        await self._start(demarche, number, changed, report, pager)

    async def _closed(self, number: int) -> bool:
        """The service's own record, whatever Temporal still remembers of the workflow."""
        async with self._db.unit_of_work() as session:
            record = await RecordRepository(session).get(number)
        return record is not None and record.stage == Stage.CLOSED

    async def _start(self, demarche: int, number: int, changed: DossierChanged,
                     report: SyncReport, pager: Pager) -> bool:
        """A new dossier: read it once for the summary and details the Temporal UI shows. It
        starts its own trace, linked to the poll that found it: one trace per dossier, not one
        per intake run. False when it went to (or stayed in) quarantine."""
        found_by = trace.get_current_span().get_span_context()
        with _tracer.start_as_current_span(
                "intake new dossier", context=otel_context.Context(),
                links=[trace.Link(found_by)] if found_by.is_valid else [],
                attributes={"ptce.dossier": number}):
            return await self._start_traced(demarche, number, changed, report, pager)

    async def _start_traced(self, demarche: int, number: int, changed: DossierChanged,
                            report: SyncReport, pager: Pager) -> bool:
        try:
            raw = (await pager.query("get_dossier", {"dossierNumber": number}))["dossier"]
            dossier = map_dossier(raw, self._mapping)
        except PlatformNotFound:
            return False  # deleted by its applicant meanwhile: nothing to start
        except Exception as exc:
            if not is_poison(exc):
                raise
            await self._quarantine.hold(demarche, number, exc)
            report.quarantined += 1
            return False
        try:
            # Signal-with-start: if another poll started it meanwhile, this only signals.
            await self._temporal.start_workflow(
                DOSSIER_WORKFLOW,
                DossierInput(number=number, demarche=demarche, policy=self._policy),
                id=dossier_workflow_id(number),
                task_queue=self._task_queue,
                start_signal=DOSSIER_CHANGED_SIGNAL,
                start_signal_args=[changed],
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=dossier_summary(number, dossier),
                static_details=dossier_details(dossier),
            )
        except WorkflowAlreadyStartedError:
            report.finished += 1
            return True
        report.dispatched += 1
        if number in self._quarantine.held and await self._quarantine.release(number):
            report.released += 1
        activity.logger.info("dossier workflow started", extra={"dossier": number})
        return True

    async def _notify(self, number: int, change: DossierChanged) -> bool:
        """Tells a running workflow; False when there is none (never started, or ended)."""
        handle = self._temporal.get_workflow_handle(dossier_workflow_id(number))
        try:
            await handle.signal(DOSSIER_CHANGED_SIGNAL, change)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            return False
        return True

    # ----------------------------------------------------------------- the lists

    async def _sync_changes(self, demarche: int, report: SyncReport, pager: Pager,
                            out_of_time: Callable[[], bool]) -> bool:
        """``dossiers(updatedSince, after)``; True when pages are left."""
        async with self._db.unit_of_work() as session:
            row = await SyncCursorRepository(session).get_or_create(demarche)
            cursor, since = row.cursor, row.updated_since or SYNC_EPOCH
            seen = dict(row.last_seen or {})
        start, after = cursor, overlapped(cursor)
        saved = time.monotonic()
        while True:
            data = await pager.query("dossiers_updated_since", {
                "demarcheNumber": demarche, "updatedSince": since.isoformat(),
                "first": PAGE_SIZE, "after": after})
            connection = data["demarche"]["dossiers"]
            report.pages += 1
            for edge in connection["edges"] or []:
                node, key = edge["node"], str(edge["cursor"])
                number = int(node["number"])
                if seen.get(str(number)) == key:
                    continue
                report.changed += 1
                updated = datetime.fromisoformat(str(node["dateDerniereModification"]))
                await self._start_or_signal(demarche, number, DossierChanged(updated_at=updated),
                                            report, pager)
                seen[str(number)] = key
                activity.heartbeat(report.pages)
                if time.monotonic() - saved > SAVE_EVERY:  # the cursor waits for the page's end
                    await self._save_seen(demarche, seen)
                    saved = time.monotonic()
            # Keep the furthest non-null cursor: neither an empty page nor the re-read of the
            # overlap may move it back.
            after = connection["pageInfo"]["endCursor"] or after
            cursor = later(cursor, connection["pageInfo"]["endCursor"])
            async with self._db.unit_of_work() as session:
                row = await SyncCursorRepository(session).get_or_create(demarche)
                row.cursor, row.updated_since = cursor, since
                row.last_seen = prune(seen, cursor, OVERLAP)
            activity.heartbeat(report.pages)
            if not connection["pageInfo"]["hasNextPage"]:
                return False
            if cursor != start and out_of_time():  # past the overlap first: always progress
                return True

    async def _save_seen(self, demarche: int, seen: dict[str, str]) -> None:
        async with self._db.unit_of_work() as session:
            row = await SyncCursorRepository(session).get_or_create(demarche)
            row.last_seen = dict(seen)

    async def _sync_list(self, demarche: int, name: str, report: SyncReport, pager: Pager,
                         out_of_time: Callable[[], bool]) -> bool:
        """``pendingDeletedDossiers`` or ``deletedDossiers``; True when pages are left."""
        operation, field, overlap = _LISTS[name]
        async with self._db.unit_of_work() as session:
            row = await IntakeListRepository(session).get_or_create(demarche, name)
            cursor, seen = row.cursor, dict(row.seen or {})
        start, after = cursor, overlapped(cursor, overlap)
        while True:
            data = await pager.query(operation, {
                "demarcheNumber": demarche, "first": PAGE_SIZE, "after": after})
            connection = data["demarche"][field]
            report.pages += 1
            for edge in connection["edges"] or []:
                node, key = edge["node"], str(edge["cursor"])
                number = int(node["number"])
                if seen.get(str(number)) == key:
                    continue
                deleted_at = datetime.fromisoformat(str(node["dateSupression"]))
                change = (DossierChanged(hidden=True, updated_at=deleted_at) if name == "pending"
                          else DossierChanged(deleted=True, updated_at=deleted_at))
                if await self._notify(number, change):
                    report.hidden += name == "pending"
                    report.deleted += name == "deleted"
                seen[str(number)] = key
                activity.heartbeat(report.pages)
            after = connection["pageInfo"]["endCursor"] or after
            cursor = later(cursor, connection["pageInfo"]["endCursor"])
            async with self._db.unit_of_work() as session:
                row = await IntakeListRepository(session).get_or_create(demarche, name)
                row.cursor, row.seen = cursor, prune(seen, cursor, overlap)
            if not connection["pageInfo"]["hasNextPage"]:
                return False
            if cursor != start and out_of_time():
                return True

    async def _retry_quarantined(self, demarche: int, report: SyncReport, pager: Pager,
                                 out_of_time: Callable[[], bool]) -> bool:
        for number in await self._quarantine.due(demarche):
            if out_of_time():
                return True
            if await self._closed(number):
                await self._quarantine.release(number)
                continue
            await self._start(demarche, number, DossierChanged(), report, pager)
            activity.heartbeat(report.pages)
        return False

    @activity.defn(name="intake_sync_demarche")
    @beats_itself
    async def sync_demarche(self, demarche: int) -> SyncReport:
        """Reads the démarche's changes from the persisted cursors, page by page. Returns after
        ``SYNC_BUDGET`` even with pages left (``more``): under a steady stream of changes (new
        filings, the echoes of our own mutations) one call would otherwise never end."""
        report = SyncReport()
        started = time.monotonic()

        def out_of_time() -> bool:
            return time.monotonic() - started > SYNC_BUDGET.total_seconds()

        pager = Pager(self._ds)
        await self._quarantine.load(demarche)
        try:
            more = await self._sync_changes(demarche, report, pager, out_of_time)
            for name in _LISTS:
                more = await self._sync_list(demarche, name, report, pager, out_of_time) or more
            more = await self._retry_quarantined(demarche, report, pager, out_of_time) or more
        except PlatformError as exc:
            # The token, an outage: the whole démarche waits (the sync workflow retries).
            if self._alerts is not None:
                await self._alerts.platform(exc, activity.info().attempt, "intake")
            raise ApplicationError(str(exc), type=type(exc).__name__) from exc
        report.more = more
        return report
