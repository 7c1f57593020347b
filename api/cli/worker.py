"""The worker process: owns every client's lifetime and registers workflows and activities."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import httpx
from temporalio.client import Client
from temporalio.common import (
    VersioningBehavior,
    WorkerDeploymentVersion,
    WorkflowIDConflictPolicy,
)
from temporalio.worker import Worker, WorkerDeploymentConfig

from activities.alerts import AdminAlerts
from activities.heartbeats import AutoHeartbeat
from activities.intake import IntakeActivities
from activities.mail.activities import MailActivities
from activities.platform.activities import PlatformActivities
from activities.platform.client import DsClient
from activities.platform.token import token_source
from activities.store import StoreActivities
from api.cli.membership import WorkerRefused, ensure_belongs
from api.cli.platform_check import check_before_start
from api.temporal import connect_waiting, metrics_runtime, reachable
from core.db.engine import Database, create_engine
from core.db.migrate import upgrade
from core.db.seed import load_cra_members
from core.ids import sync_workflow_id
from core.links import LinkSigner
from core.mapping import load_mapping
from core.settings import Settings, TemporalSettings, get_settings
from core.telemetry.setup import configure as configure_telemetry
from core.telemetry.traces import instrument_engine, instrument_http
from workflows.metrics import BusinessMetrics
from workflows.registry import VERSIONED_WORKFLOWS, WORKFLOWS
from workflows.sync import DemarcheSyncWorkflow, SyncInput

log = logging.getLogger("ptce.worker")
# SIGTERM (docker compose stop, Ctrl-C of make run): what an activity in flight gets to finish.
GRACEFUL_SHUTDOWN = timedelta(seconds=10)


@dataclass
class Resources:
    db: Database
    http: httpx.AsyncClient


@asynccontextmanager
async def resources(settings: Settings, http: httpx.AsyncClient | None = None
                    ) -> AsyncIterator[Resources]:
    """``http``: the platform's client if not a new one (the tests' goes to the stand-in in
    process); closed on exit either way."""
    db = Database(create_engine(settings.effective_database_url))
    instrument_engine(db.engine)
    if http is None:
        http = httpx.AsyncClient(timeout=settings.platform.timeout_seconds)
    try:
        # Migrations to head: a fresh machine gets the schema, an existing database keeps its data.
        await upgrade(db.engine)
        yield Resources(db=db, http=http)
    finally:
        await http.aclose()
        await db.dispose()


def deployment_config(settings: TemporalSettings) -> WorkerDeploymentConfig | None:
    """A versioned worker when ``PTCE_TEMPORAL__BUILD_ID`` is set: the dossiers and their
    consultations move to the current version at their next task (AUTO_UPGRADE), the intake
    stays on its version until its next continue-as-new (PINNED); unversioned otherwise."""
    if not settings.build_id:
        return None
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(settings.deployment_name, settings.build_id),
        use_worker_versioning=True, default_versioning_behavior=VersioningBehavior.AUTO_UPGRADE)


def build_worker(client: Client, settings: Settings, res: Resources, task_queue: str | None = None,
                 **worker_options: object) -> Worker:
    instrument_http(res.http)  # the platform's calls as child spans of their activity
    ds = DsClient(res.http, settings.platform.graphql_url, token_source(settings.platform),
                  timeout=settings.platform.timeout_seconds)
    queue = task_queue or settings.temporal.task_queue
    store = StoreActivities(res.db)
    mail = MailActivities(settings.smtp, res.db, LinkSigner.from_settings(settings.links),
                          settings.api.public_base_url)
    mapping = load_mapping(settings.platform.mapping_file)
    alerts = AdminAlerts(mail, res.db)
    platform = PlatformActivities(ds, settings.platform, mapping, alerts)
    intake = IntakeActivities(ds, client, res.db, queue, settings.policy, mapping, alerts)
    options: dict[str, object] = {"max_cached_workflows": settings.temporal.max_cached_workflows,
                                  **worker_options}
    versioned = deployment_config(settings.temporal)
    if versioned is not None:
        options.setdefault("deployment_config", versioned)
    workflows = VERSIONED_WORKFLOWS if options.get("deployment_config") else WORKFLOWS
    return Worker(
        client,
        task_queue=queue,
        workflows=workflows,
        # Tracing comes from the client's interceptors.
        interceptors=[BusinessMetrics(), AutoHeartbeat()],
        activities=[
            store.save_snapshot, store.save_record, store.cra_pair,
            mail.send_email, mail.send_cra_link_email,
            platform.fetch_dossier, platform.passer_en_instruction, platform.send_message,
            platform.decide, platform.annotate,
            intake.sync_demarche,
        ],
        **options,  # type: ignore[arg-type]
    )


async def ensure_sync(client: Client, settings: Settings) -> None:
    """Starts the démarche's intake workflow unless it already runs."""
    demarche = settings.platform.demarche_number
    await client.start_workflow(
        DemarcheSyncWorkflow.run,
        SyncInput(demarche=demarche, interval=settings.platform_poll_interval),
        id=sync_workflow_id(demarche), task_queue=settings.temporal.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary=f"Synchronisation de la démarche {demarche}",
    )


async def run_worker(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    await check_before_start(settings)  # production: refuses to start on a mismatch
    client = await connect_waiting(settings.temporal, settings.codec,
                                   runtime=metrics_runtime(settings.telemetry))
    # Before anything that writes to the cluster (the intake workflow's start) or polls it.
    await reachable(settings.temporal, partial(ensure_belongs, client, settings))
    async with resources(settings) as res:
        if settings.environment == "dev":
            await load_cra_members(res.db)
        await reachable(settings.temporal, partial(ensure_sync, client, settings))
        worker = build_worker(client, settings, res, graceful_shutdown_timeout=GRACEFUL_SHUTDOWN)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        # What the start imported and built lives as long as the process: out of the collector's
        # reach, each full collection no longer walks the modules (the tests: 12 % of their CPU
        # was the collector's).
        gc.freeze()
        async with worker:  # on exit: stop polling, let activities in flight finish, then stop
            log.info("worker started on task queue %s", settings.temporal.task_queue)
            await stop.wait()
            log.info("stopping: activities in flight get up to %ss to finish",
                     GRACEFUL_SHUTDOWN.total_seconds())


def main() -> None:
    configure_telemetry(get_settings().telemetry)
    try:
        asyncio.run(run_worker())
    except WorkerRefused as exc:
        log.error("%s", exc)
        print(str(exc), file=sys.stderr)
        raise SystemExit(2) from None
