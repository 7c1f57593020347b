"""The dossier summary: the dossier workflow's ``status`` query, else the last stored snapshot."""

from __future__ import annotations

import logging

from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError

from api.cra.summary import DossierSummary, summarize
from core.db.engine import Database
from core.db.repositories import SnapshotRepository
from core.domain.dossier import Dossier
from core.ids import dossier_workflow_id
from workflows.dossier import DossierWorkflow

log = logging.getLogger("ptce.api.cra")


class DossierReader:
    def __init__(self, client: Client, db: Database) -> None:
        self._client = client
        self._db = db

    async def summary(self, number: int) -> DossierSummary | None:
        handle = self._client.get_workflow_handle_for(DossierWorkflow.run, dossier_workflow_id(number))
        try:
            status = await handle.query(DossierWorkflow.status)
        except (RPCError, WorkflowQueryFailedError) as exc:
            log.warning("dossier status unavailable, reading the last snapshot",
                        extra={"dossier": number, "error": type(exc).__name__})
        else:
            if status.dossier is not None:
                return summarize(status.dossier, status.territory)
        return await self._snapshot(number)

    async def _snapshot(self, number: int) -> DossierSummary | None:
        async with self._db.unit_of_work() as session:
            snapshots = await SnapshotRepository(session).list_for(number)
        return summarize(Dossier.model_validate(snapshots[-1].data)) if snapshots else None
