"""Batch operations on the executions a visibility query selects: a dry run lists them first,
then one operation at a time at a bounded rate (the cluster serves running dossiers too)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from temporalio.client import Client

from api.admin.audit import temporal_reason
from api.admin.reset import plan_reset
from api.admin.reset_apply import execute_reset
from core.domain.procedure import Stage
from core.ids import DOSSIER_CHANGED_SIGNAL
from workflows.payloads import DossierChanged

LIMIT = 500


@dataclass
class BatchReport:
    selected: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


async def select(client: Client, query: str) -> list[str]:
    return [e.id async for e in client.list_workflows(query, limit=LIMIT)]


async def run_batch(client: Client, query: str, operation: Callable[[str], Awaitable[object]],
                    per_second: float, dry_run: bool = True) -> BatchReport:
    report = BatchReport(selected=await select(client, query))
    if dry_run:
        return report
    for workflow_id in report.selected:
        try:
            await operation(workflow_id)
            report.done.append(workflow_id)
        except Exception as exc:  # one failure must not stop the batch: reported instead
            report.failed[workflow_id] = f"{type(exc).__name__}: {exc}"
        await asyncio.sleep(1 / per_second)
    return report


def terminate(client: Client, reason: str) -> Callable[[str], Awaitable[object]]:
    return lambda wid: client.get_workflow_handle(wid).terminate(temporal_reason(reason))


def signal_changed(client: Client) -> Callable[[str], Awaitable[object]]:
    """``dossier_changed``: the dossier re-reads the platform (harmless outside a correction)."""
    return lambda wid: client.get_workflow_handle(wid).signal(DOSSIER_CHANGED_SIGNAL,
                                                              DossierChanged())


def reset_to(client: Client, stage: Stage, reason: str, identity: str
             ) -> Callable[[str], Awaitable[object]]:
    async def one(workflow_id: str) -> str:
        report = await execute_reset(client, await plan_reset(client, workflow_id, stage),
                                     reason, identity)
        if report.differences:
            raise RuntimeError("; ".join(report.differences))
        return report.run_id
    return one
