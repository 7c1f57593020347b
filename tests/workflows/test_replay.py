"""The replay gate: every recorded history replays on the current workflow code, and the
histories exercise every registered workflow type, each of its Update and signal handlers and
each branch of its procedure (``api.admin.coverage``): the gate prints what they cover."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner, WorkflowReplayResult

from api.admin.coverage import coverage
from tests.support import CONVERTER
from tests.workflows.recording import HISTORIES
from workflows.registry import WORKFLOWS

RECORDED = sorted(HISTORIES.rglob("*.json"))


@cache
def _load(path: Path) -> WorkflowHistory:
    """Read once per process (the gate and the coverage both read every history), parsed once."""
    data = json.loads(path.read_text())
    workflow_id = data["events"][0]["workflowExecutionStartedEventAttributes"].get(
        "workflowId", path.stem)
    return WorkflowHistory.from_json(workflow_id, data)


def test_histories_are_recorded() -> None:
    """The gate must not pass vacuously."""
    assert len(RECORDED) >= 5


class _Replays:
    """One replayer for the module's tests, each history handed to it when its test runs: the
    replayer's workflow worker prepares every workflow type in the sandbox once, not once per
    history (64 ms of CPU per history one replayer each, 36 ms sharing one)."""

    def __init__(self, histories: asyncio.Queue[WorkflowHistory | None],
                 results: AsyncIterator[WorkflowReplayResult]) -> None:
        self._histories, self._results = histories, results

    async def replay(self, history: WorkflowHistory) -> None:
        await self._histories.put(history)
        result = await anext(self._results)
        if result.replay_failure is not None:
            raise result.replay_failure


@pytest.fixture(scope="module")
async def replays() -> AsyncIterator[_Replays]:
    queue: asyncio.Queue[WorkflowHistory | None] = asyncio.Queue()

    async def histories() -> AsyncIterator[WorkflowHistory]:
        while (history := await queue.get()) is not None:
            yield history

    replayer = Replayer(workflows=WORKFLOWS, data_converter=CONVERTER)
    async with replayer.workflow_replay_iterator(histories()) as results:
        yield _Replays(queue, results)
        await queue.put(None)


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.stem)
async def test_recorded_history_replays_on_current_code(path: Path, replays: _Replays) -> None:
    await replays.replay(_load(path))


def test_the_histories_cover_every_workflow_handler_and_branch() -> None:
    """Printed (``pytest -s``): per workflow type, what the histories exercise. A registered
    handler, or a branch of the procedure, that no history exercises fails the gate: record
    one (``tests/workflows/recording.py``)."""
    covered = coverage(_load(p) for p in RECORDED)
    print("\n".join(covered.lines()))
    assert covered.missing(WORKFLOWS) == {}


def test_histories_are_never_overwritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    from tests.workflows import recording

    monkeypatch.setattr(recording, "HISTORIES", tmp_path)
    monkeypatch.setenv("PTCE_RECORD_HISTORIES", "1")
    path = recording.history_path("laureate", "dossier-1")
    path.parent.mkdir(parents=True)
    path.write_text("{}")

    class _Client:  # never reached: the file exists
        def get_workflow_handle(self, workflow_id: str) -> None:
            raise AssertionError("fetched")

    import asyncio
    with pytest.raises(FileExistsError):
        asyncio.run(recording.record_history(_Client(), "laureate", "dossier-1"))  # type: ignore[arg-type]
    assert path.read_text() == "{}"


async def test_an_unguarded_change_fails_replay_and_a_patched_one_passes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The gate catches a change that would break running dossiers: here, a step removed."""
    from temporalio import workflow

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


def test_versioned_workers_run_the_types_the_gate_covers() -> None:
    """A versioned worker registers the same workflow types (the intake with its versioning
    behaviour only): the same names and handlers, so the gate's histories cover them too."""
    from temporalio import workflow

    from workflows.registry import VERSIONED_WORKFLOWS

    def shape(classes: list[type]) -> dict[str | None, tuple[list[str], list[str]]]:
        out = {}
        for cls in classes:
            d = workflow._Definition.from_class(cls)
            assert d is not None
            out[d.name] = (sorted(k for k in d.updates if k), sorted(k for k in d.signals if k))
        return out

    assert shape(VERSIONED_WORKFLOWS) == shape(WORKFLOWS)


async def test_the_intake_history_replays_on_the_pinned_intake() -> None:
    from workflows.registry import VERSIONED_WORKFLOWS

    [path] = [p for p in RECORDED if p.stem.endswith("-sync")]
    replayer = Replayer(workflows=VERSIONED_WORKFLOWS, data_converter=CONVERTER)
    await replayer.replay_workflow(_load(path))
