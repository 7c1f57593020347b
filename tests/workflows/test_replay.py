"""The replay gate: every recorded history replays on the current workflow code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from tests.support import CONVERTER
from tests.workflows.recording import HISTORIES
from workflows.registry import WORKFLOWS

RECORDED = sorted(HISTORIES.glob("*.json"))


def test_histories_are_recorded() -> None:
    """The gate must not pass vacuously."""
    assert len(RECORDED) >= 5


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.stem)
async def test_recorded_history_replays_on_current_code(path: Path) -> None:
    workflow_id = json.loads(path.read_text())["events"][0]["workflowExecutionStartedEventAttributes"].get(
        "workflowId", path.stem)
    history = WorkflowHistory.from_json(workflow_id, path.read_text())
    replayer = Replayer(workflows=WORKFLOWS, data_converter=CONVERTER)
    await replayer.replay_workflow(history)


async def test_an_unguarded_change_fails_replay_and_a_patched_one_passes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The gate catches a change that would break running dossiers: here, a step removed."""
    from temporalio import workflow
    from temporalio.worker import WorkflowReplayResult

    from workflows.dossier import DossierWorkflow

    path = next(p for p in RECORDED if p.name.endswith("-laureate-dossier.json"))
    history = WorkflowHistory.from_json("dossier", path.read_text())
    original = DossierWorkflow._record

    async def removed(self: DossierWorkflow, **values: object) -> None:
        return None

    async def guarded(self: DossierWorkflow, **values: object) -> None:
        if not workflow.patched("skip-record"):
            await original(self, **values)

    # Unsandboxed: the sandbox would re-import the module and miss the monkeypatched change.
    replayer = Replayer(workflows=WORKFLOWS, data_converter=CONVERTER,
                        workflow_runner=UnsandboxedWorkflowRunner())
    monkeypatch.setattr(DossierWorkflow, "_record", removed)
    result: WorkflowReplayResult = await replayer.replay_workflow(
        history, raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert "nondetermin" in str(result.replay_failure).lower()

    monkeypatch.setattr(DossierWorkflow, "_record", guarded)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None
