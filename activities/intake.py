"""Intake: cursor polling of a démarche, then signal-with-start of each changed dossier.

The platform's official way to receive changes is polling ``dossiers(updatedSince, after)``
with a persisted cursor (the legacy webhook is unsigned, unretried and deprecated). Delivery is
at-least-once, so we dedupe, and a dossier's workflow is started or signalled, never started
twice (its id is the dossier number).

The dedupe key is each edge's cursor, not ``dateDerniereModification``: the date is shown to
the second, so two changes within one second would look like one and the second would be
lost, while the cursor carries the platform's full ``updated_at`` (nanoseconds) and the number
(``Connections::CursorConnection#cursor_for``). A key we cannot read costs at worst one
duplicate notice, which is harmless: the workflow re-reads the dossier anyway.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from opentelemetry import context as otel_context
from opentelemetry import trace
from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.platform.client import DsClient, PlatformError
from core.db.engine import Database
from core.db.repositories import SyncCursorRepository
from core.domain.policy import Policy
from core.domain.procedure import DossierChanged, DossierInput
from core.ids import DOSSIER_CHANGED_SIGNAL, DOSSIER_WORKFLOW, dossier_workflow_id
from core.mapping import DemarcheMapping, map_dossier
from core.summaries import dossier_details, dossier_summary

_tracer = trace.get_tracer("ptce.intake")
SYNC_EPOCH = datetime(2024, 3, 25, tzinfo=UTC)  # the call opened on 25 March 2024
SYNC_BUDGET = timedelta(minutes=2)  # one call's work; well within its 10-minute timeout
PAGE_SIZE = 100  # the platform's maximum


class SyncReport(BaseModel):
    pages: int = 0
    changed: int = 0
    dispatched: int = 0  # signal-with-start: started, or signalled when already running
    finished: int = 0  # changes of dossiers whose workflow already ended (our own echoes)
    deleted: int = 0
    more: bool = False  # stopped at its time budget with pages left: call again at once


class IntakeActivities:
    def __init__(self, ds: DsClient, temporal: Client, db: Database, task_queue: str,
                 policy: Policy, mapping: DemarcheMapping) -> None:
        self._ds = ds
        self._mapping = mapping
        self._temporal = temporal
        self._db = db
        self._task_queue = task_queue
        self._policy = policy

    async def _start_or_signal(self, demarche: int, number: int, changed: DossierChanged,
                               report: SyncReport) -> None:
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
        await self._start(demarche, number, changed, report)

    async def _start(self, demarche: int, number: int, changed: DossierChanged,
                     report: SyncReport) -> None:
        """A new dossier: read it once for the summary and details the Temporal UI shows. It
        starts its own trace, linked to the poll that found it: one trace per dossier, not one
        per intake run."""
        found_by = trace.get_current_span().get_span_context()
        with _tracer.start_as_current_span(
                "intake new dossier", context=otel_context.Context(),
                links=[trace.Link(found_by)] if found_by.is_valid else [],
                attributes={"ptce.dossier": number}):
            await self._start_traced(demarche, number, changed, report)

    async def _start_traced(self, demarche: int, number: int, changed: DossierChanged,
                            report: SyncReport) -> None:
        try:
            raw = (await self._ds.execute("get_dossier", {"dossierNumber": number}))["dossier"]
        except PlatformError as exc:
            raise ApplicationError(str(exc), type=type(exc).__name__) from exc
        dossier = map_dossier(raw, self._mapping)
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
            return
        report.dispatched += 1
        activity.logger.info("dossier workflow started", extra={"dossier": number})

    async def _signal_deleted(self, number: int, report: SyncReport) -> None:
        handle = self._temporal.get_workflow_handle(dossier_workflow_id(number))
        try:
            await handle.signal(DOSSIER_CHANGED_SIGNAL, DossierChanged(deleted=True))
            report.deleted += 1
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise

    @activity.defn(name="intake_sync_demarche")
    async def sync_demarche(self, demarche: int) -> SyncReport:
        """Reads the démarche's changes from the persisted cursor, page by page. Returns after
        ``SYNC_BUDGET`` even with pages left (``more``): under a steady stream of changes (new
        filings, the echoes of our own mutations) one call would otherwise never end."""
        report = SyncReport()
        started = time.monotonic()
        async with self._db.unit_of_work() as session:
            row = await SyncCursorRepository(session).get_or_create(demarche)
            cursor, since = row.cursor, row.updated_since or SYNC_EPOCH
            seen = dict(row.last_seen or {})
        deleted_done = False
        while True:
            try:
                data = await self._ds.execute("dossiers_updated_since", {
                    "demarcheNumber": demarche, "updatedSince": since.isoformat(),
                    "first": PAGE_SIZE, "after": cursor})
            except PlatformError as exc:
                raise ApplicationError(str(exc), type=type(exc).__name__) from exc
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
                                            report)
                seen[str(number)] = key
            if not deleted_done:
                for node in (data["demarche"].get("deletedDossiers") or {}).get("nodes") or []:
                    if seen.get(str(node["number"])) != "deleted":
                        await self._signal_deleted(int(node["number"]), report)
                        seen[str(node["number"])] = "deleted"
                deleted_done = True
            # Keep the last non-null cursor: an empty page must not reset it.
            cursor = connection["pageInfo"]["endCursor"] or cursor
            async with self._db.unit_of_work() as session:
                row = await SyncCursorRepository(session).get_or_create(demarche)
                row.cursor, row.updated_since, row.last_seen = cursor, since, seen
            activity.heartbeat(report.pages)
            if not connection["pageInfo"]["hasNextPage"]:
                return report
            if time.monotonic() - started > SYNC_BUDGET.total_seconds():
                report.more = True
                return report
