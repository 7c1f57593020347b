"""Records histories for the replay gate: `PTCE_RECORD_HISTORIES=1 pytest tests/workflows`.

Each released version of the workflows leaves its histories under ``histories/``; the replay
test runs them against the current code, so a change that would break running dossiers fails
CI unless guarded with ``workflow.patched``.
"""

from __future__ import annotations

import os
from pathlib import Path

from temporalio.client import Client

HISTORIES = Path(__file__).parent / "histories"
VERSION = "v0.4.0"  # each release records its own; older ones stay


async def record_history(client: Client, name: str, *workflow_ids: str) -> None:
    if os.environ.get("PTCE_RECORD_HISTORIES") != "1":
        return
    HISTORIES.mkdir(exist_ok=True)
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        # dossier-<n> -> "dossier"; dossier-<n>-cra-<region>-r<round> -> "cra-<region>-r<round>"
        kind = workflow_id.split("-", 2)[2] if "-cra-" in workflow_id else "dossier"
        path = HISTORIES / f"{VERSION}-{name}-{kind}.json"
        path.write_text(history.to_json())
