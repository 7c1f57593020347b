"""Intake of one démarche: polls the platform with a persisted cursor, forever.

Long-running with continue-as-new so its history stays short; ``sync_now`` (from the legacy
webhook endpoint) wakes it early. Its body is never trusted: it only triggers a poll.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import VersioningBehavior

with workflow.unsafe.imports_passed_through():
    from activities.intake import IntakeActivities
    from core.ids import SYNC_WORKFLOW
    from workflows import options


class SyncInput(BaseModel):
    demarche: int
    interval: timedelta = timedelta(seconds=30)
    polls_per_run: int = 200


@workflow.defn(name=SYNC_WORKFLOW)
class DemarcheSyncWorkflow:
    def __init__(self) -> None:
        self._wake = False

    @workflow.run
    async def run(self, input: SyncInput) -> None:
        for _ in range(input.polls_per_run):
            self._wake = False
            report = await workflow.execute_activity_method(
                IntakeActivities.sync_demarche, input.demarche,
                # The intake heartbeats after each dossier, while a request lasts and while it
                # waits out the rate limit: a worker killed mid-poll is noticed, and the poll
                # taken up by another, within a minute (workflows/options.py).
                **options.intake(f"Synchronisation de la démarche {input.demarche}"),
            )
            if report.more:  # stopped at its time budget: go on at once
                continue
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self._wake, timeout=input.interval,
                                              timeout_summary="Prochaine synchronisation")
        await workflow.wait_condition(workflow.all_handlers_finished)
        # Pinned to its worker version while it runs; each new run starts on the current one.
        workflow.continue_as_new(
            input, initial_versioning_behavior=workflow.ContinueAsNewVersioningBehavior.AUTO_UPGRADE)

    @workflow.signal(name="sync_now")
    def sync_now(self) -> None:
        self._wake = True


@workflow.defn(name=SYNC_WORKFLOW, versioning_behavior=VersioningBehavior.PINNED)
class PinnedDemarcheSyncWorkflow(DemarcheSyncWorkflow):
    """The same workflow for a versioned worker (``PTCE_TEMPORAL__BUILD_ID``): each run stays
    on the worker version it started on, and its continue-as-new starts the next run on the
    current version. An unversioned worker may not declare a behaviour (the server refuses its
    workflow tasks), hence two registrations of one workflow type."""

    @workflow.run
    async def run(self, input: SyncInput) -> None:
        await super().run(input)
