"""Replay histories against the current workflow code: the check to run before a deploy.

From JSON files (exported from the UI or ``temporal workflow show -o json``), from a
visibility query on the cluster, or a random sample of the cluster's running executions
(``--sample N``: drawn over all of them, however many, one page at a time), each report with
what its histories exercise (``api.admin.coverage``).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from api.admin.coverage import Coverage, coverage
from api.temporal import converter
from core.ids import CONSULTATION_WORKFLOW, DOSSIER_WORKFLOW, SYNC_WORKFLOW
from workflows.registry import WORKFLOWS

RUNNING = (f"ExecutionStatus = 'Running' AND WorkflowType IN ('{DOSSIER_WORKFLOW}', "
           f"'{CONSULTATION_WORKFLOW}', '{SYNC_WORKFLOW}')")


@dataclass
class ReplayReport:
    replayed: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # workflow id -> error
    covered: Coverage = field(default_factory=Coverage)
    population: int | None = None  # executions the sample was drawn from

    def lines(self) -> list[str]:
        out = [f"{wid}: {'ÉCHEC ' + self.failures[wid] if wid in self.failures else 'ok'}"
               for wid in self.replayed]
        out += self.covered.lines()
        drawn = (f" (échantillon de {len(self.replayed)} sur {self.population} en cours)"
                 if self.population is not None else "")
        out.append(f"{len(self.replayed)} rejoué(s){drawn}, {len(self.failures)} non "
                   "déterministe(s).")
        return out


async def _replay(histories: list[WorkflowHistory]) -> ReplayReport:
    # One at a time: copies of one execution share a run id, and each gets its own verdict.
    replayer = Replayer(workflows=WORKFLOWS, data_converter=converter())
    report = ReplayReport(covered=coverage(histories))
    for history in histories:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        report.replayed.append(history.workflow_id)
        if result.replay_failure is not None:
            error = result.replay_failure
            report.failures[history.workflow_id] = f"{type(error).__name__}: {error}"
    return report


def _history(path: Path) -> WorkflowHistory:
    data = json.loads(path.read_text())
    return WorkflowHistory.from_json(data.get("workflow_id", path.stem),
                                     data.get("history", data))


async def replay_files(paths: list[Path]) -> ReplayReport:
    return await _replay([_history(p) for p in paths])


async def replay_query(client: Client, query: str) -> ReplayReport:
    return await _replay([h async for h in client.list_workflows(query).map_histories()])


async def replay_sample(client: Client, size: int, query: str = RUNNING,
                        seed: int | None = None) -> ReplayReport:
    """``size`` executions drawn uniformly among all that ``query`` selects (reservoir
    sampling over the listing: any number of executions, one page in memory at a time)."""
    draw = random.Random(seed)
    chosen: list[tuple[str, str]] = []
    seen = 0
    async for execution in client.list_workflows(query):
        seen += 1
        if len(chosen) < size:
            chosen.append((execution.id, execution.run_id))
        else:
            slot = draw.randrange(seen)
            if slot < size:
                chosen[slot] = (execution.id, execution.run_id)
    histories = [await client.get_workflow_handle(wid, run_id=run).fetch_history()
                 for wid, run in chosen]
    report = await _replay(histories)
    report.population = seen
    return report
