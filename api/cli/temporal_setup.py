"""``ptce temporal setup``: the service's own namespace, its retention, its search attributes.

Run once per cluster (the compose ``migrate`` service does it before the workers start), and
again at will: each step only changes what differs from the settings.

- The namespace (``PTCE_TEMPORAL__NAMESPACE``, ``ptce`` by default) is the service's own, never
  a shared ``default`` whose retention someone else chose: created when missing.
- Its retention (``PTCE_TEMPORAL__RETENTION_DAYS``, ten years by default) is how long Temporal
  keeps a closed dossier's history: what a reset, a replay or the Temporal UI can still read.
  Set at creation, updated when the setting changes. The intake never depends on it: a dossier
  whose record is closed is never started again, whether Temporal still has its history or not
  (``activities.intake``).
- The custom search attributes (``workflows.search_attributes``) are registered in it.

A namespace just created reaches every frontend only at their next namespace-cache refresh
(seconds): the search attributes are retried until it is seen.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    RegisterNamespaceRequest,
    SetWorkerDeploymentCurrentVersionRequest,
    UpdateNamespaceRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.temporal import connect
from core.settings import TemporalSettings
from workflows import search_attributes

# How long a new namespace may take to be seen by the frontend that serves us.
PROPAGATION_TIMEOUT = timedelta(seconds=60)
# How long a cluster still starting may take to answer (the compose stack starts it just before).
READY_TIMEOUT = timedelta(minutes=2)


@dataclass
class SetupReport:
    namespace: str
    created: bool = False
    retention_before: timedelta | None = None  # None: unchanged (or just created)
    retention: timedelta = timedelta(0)
    search_attributes_added: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        days = self.retention.days
        if self.created:
            state = f"Namespace {self.namespace}: created, retention {days} days"
        elif self.retention_before is not None:
            state = (f"Namespace {self.namespace}: retention changed from "
                     f"{self.retention_before.days} to {days} days")
        else:
            state = f"Namespace {self.namespace}: present, retention {days} days"
        added = ", ".join(self.search_attributes_added) or "none (all present)"
        return [state, f"Search attributes added: {added}"]


def _duration(value: timedelta) -> Duration:
    d = Duration()
    d.FromTimedelta(value)
    return d


async def _retention(client: Client, namespace: str) -> timedelta | None:
    """The namespace's retention, None when it does not exist."""
    try:
        described = await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace))
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return described.config.workflow_execution_retention_ttl.ToTimedelta()


async def ensure_namespace(client: Client, namespace: str, retention: timedelta,
                           report: SetupReport) -> None:
    report.retention = retention
    current = await _retention(client, namespace)
    if current is None:
        try:
            await client.workflow_service.register_namespace(RegisterNamespaceRequest(
                namespace=namespace, workflow_execution_retention_period=_duration(retention),
                description="AMI PTCE dossier service"))
            report.created = True
        except RPCError as exc:
            if exc.status != RPCStatusCode.ALREADY_EXISTS:  # another setup, at the same time
                raise
            current = await _retention(client, namespace)
    if current is not None and current != retention:
        await client.workflow_service.update_namespace(UpdateNamespaceRequest(
            namespace=namespace,
            config=NamespaceConfig(workflow_execution_retention_ttl=_duration(retention))))
        report.retention_before = current


async def _existing(client: Client, namespace: str) -> set[str]:
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace))
    except RPCError as exc:
        if exc.status == RPCStatusCode.UNIMPLEMENTED:  # the time-skipping test server
            return set()
        raise
    return set(listed.custom_attributes)


async def add_search_attributes(client: Client, namespace: str) -> list[str]:
    existing = await _existing(client, namespace)
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type.value)
        for key in search_attributes.ALL
        if key.name not in existing
    }
    if missing:
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=namespace, search_attributes=missing))
        except RPCError as exc:
            if exc.status != RPCStatusCode.ALREADY_EXISTS:
                raise
    return sorted(missing)


async def _add_once_seen(client: Client, namespace: str) -> list[str]:
    """Retried while the frontend does not know the namespace yet (cache refresh)."""
    deadline = asyncio.get_running_loop().time() + PROPAGATION_TIMEOUT.total_seconds()
    delay = 0.2
    while True:
        try:
            return await add_search_attributes(client, namespace)
        except RPCError as exc:
            unseen = exc.status == RPCStatusCode.NOT_FOUND or "not found" in exc.message.lower()
            if not unseen or asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


async def setup(client: Client, settings: TemporalSettings) -> SetupReport:
    report = SetupReport(settings.namespace)
    await ensure_namespace(client, settings.namespace,
                           timedelta(days=settings.retention_days), report)
    report.search_attributes_added = await _add_once_seen(client, settings.namespace)
    return report


async def run_setup(settings: TemporalSettings,
                    ready_timeout: timedelta = READY_TIMEOUT) -> SetupReport:
    """Waits for the cluster (a server whose port just opened may not serve yet), then sets up."""
    deadline = asyncio.get_running_loop().time() + ready_timeout.total_seconds()
    while True:
        try:
            return await setup(await connect(settings), settings)
        except RPCError as exc:
            if exc.status not in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED) \
                    or asyncio.get_running_loop().time() > deadline:
                raise
        except RuntimeError:  # the client could not connect at all
            if asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(2)


async def set_current_version(settings: TemporalSettings, build_id: str) -> str:
    """Makes ``<deployment_name>.<build_id>`` the deployment's current version: new dossiers,
    and running ones at their next task, go to its workers; returns the previous version."""
    client = await connect(settings)
    answer = await client.workflow_service.set_worker_deployment_current_version(
        SetWorkerDeploymentCurrentVersionRequest(
            namespace=settings.namespace, deployment_name=settings.deployment_name,
            build_id=build_id, identity="ptce temporal set-current-version"))
    previous = answer.previous_deployment_version
    return f"{previous.deployment_name}.{previous.build_id}" if previous.build_id else \
        "unversioned"
