"""Replay histories against the current workflow code: the check to run before a deploy.

From JSON files (exported from the UI or ``temporal workflow show -o json``) or from a
visibility query on the cluster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from api.temporal import converter
from workflows.registry import WORKFLOWS


@dataclass
class ReplayReport:
    replayed: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # workflow id -> error

    def lines(self) -> list[str]:
        out = [f"{wid}: {'ÉCHEC ' + self.failures[wid] if wid in self.failures else 'ok'}"
               for wid in self.replayed]
        out.append(f"{len(self.replayed)} rejoué(s), {len(self.failures)} non déterministe(s).")
        return out


async def _replay(histories: list[WorkflowHistory]) -> ReplayReport:
    # One at a time: copies of one execution share a run id, and each gets its own verdict.
    replayer = Replayer(workflows=WORKFLOWS, data_converter=converter())
    report = ReplayReport()
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
