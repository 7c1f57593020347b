"""Records histories for the replay gate: `PTCE_RECORD_HISTORIES=1 pytest tests/workflows/…`.

Each release records its own under ``histories/<version>/`` (the older flat ``v0.x.0-*.json``
files are the releases before folders); the replay test runs them all against the current
code, so a change that would break running dossiers fails CI unless guarded with
``workflow.patched``. A recorded history is never overwritten: recording one that exists
fails (record it under a new name, or for the next release).
"""

from __future__ import annotations

import os
from pathlib import Path

from temporalio.client import Client

HISTORIES = Path(__file__).parent / "histories"
VERSION = "v0.4.0"  # each release records its own; older ones stay


def history_path(name: str, workflow_id: str) -> Path:
    # dossier-<n> -> "dossier"; dossier-<n>-cra-<region>-r<round> -> "cra-<region>-r<round>";
    # sync-demarche-<d> -> "sync"
    if "-cra-" in workflow_id:
        kind = workflow_id.split("-", 2)[2]
    elif workflow_id.startswith("sync-"):
        kind = "sync"
    else:
        kind = "dossier"
    return HISTORIES / VERSION / f"{name}-{kind}.json"


async def record_history(client: Client, name: str, *workflow_ids: str,
                         run_id: str | None = None) -> None:
    """The latest run of each workflow (or, with ``run_id``, that run of the only one)."""
    if os.environ.get("PTCE_RECORD_HISTORIES") != "1":
        return
    # A new name for a new path of the same release (``lean-`` for ``patches.LEAN_PATH``).
    name = os.environ.get("PTCE_RECORD_PREFIX", "") + name
    for workflow_id in workflow_ids:
        path = history_path(name, workflow_id)
        if path.exists():
            raise FileExistsError(f"{path} is recorded already: histories are never overwritten")
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(history.to_json())
