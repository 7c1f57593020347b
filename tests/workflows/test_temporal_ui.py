"""What a BESSII agent sees in the Temporal UI: search attributes, summaries, current details,
activity summaries, and the README's list filters (on a real dev server)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from core.domain.procedure import Stage
from core.ids import consultation_workflow_id, dossier_workflow_id, sync_workflow_id
from tests.support import Stack
from tests.workflows.helpers import wait_for
from workflows import search_attributes as sa
from workflows.dossier import DossierWorkflow
from workflows.sync import DemarcheSyncWorkflow, SyncInput

README = Path(__file__).parents[2] / "README.md"


def readme_filter(label: str) -> str:
    """The query printed under ``-- <label>`` in the README's Temporal UI section."""
    lines = README.read_text().splitlines()
    at = lines.index(f"-- {label}")
    return lines[at + 1].strip()


async def _summaries(client: Client, workflow_id: str) -> list[str]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    # User metadata goes through the payload codec too: the UI shows it via the codec endpoint.
    return [
        str(value)
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.user_metadata.HasField("summary")
        for value in await client.data_converter.decode([e.user_metadata.summary], [str])
    ]


async def _local_activities(client: Client, workflow_id: str) -> list[str]:
    """Activity types of the local activities, as the UI's timeline names them (marker data)."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [json.loads(e.marker_recorded_event_attributes.details["data"].payloads[0].data)[
        "activity_type"] for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == "core_local_activity"]


async def _listed(client: Client, query: str, expected: set[str]) -> set[str]:
    """Visibility is eventually consistent: wait until the listing settles on ``expected``."""
    found: set[str] = set()
    for _ in range(50):
        found = {w.id async for w in client.list_workflows(query)}
        if found == expected:
            break
        await asyncio.sleep(0.2)
    return found


async def test_an_agent_sees_the_dossier_story_in_the_temporal_ui(
    dev_env: WorkflowEnvironment, dev_stack: Stack
) -> None:
    client = dev_env.client
    fragile = await dev_stack.file(0)  # Bretagne, ZRR
    other = await dev_stack.file(1)  # Occitanie and Nouvelle-Aquitaine, not fragile
    async with dev_stack.worker(client) as worker:
        sync = await client.start_workflow(
            DemarcheSyncWorkflow.run, SyncInput(demarche=1001, interval=timedelta(seconds=1)),
            id=f"{sync_workflow_id(1001)}-{worker.task_queue}", task_queue=worker.task_queue)
        for number in (fragile, other):
            for _ in range(100):
                try:
                    handle = client.get_workflow_handle_for(DossierWorkflow.run,
                                                            dossier_workflow_id(number))
                    await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY
                                   and len(s.consultations) == len(s.dossier.regions))
                    break
                except Exception:
                    await asyncio.sleep(0.2)
        handle = client.get_workflow_handle(dossier_workflow_id(fragile))
        description = await handle.describe()
        metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
        child = await client.get_workflow_handle(consultation_workflow_id(fragile, "53")).describe()
        summaries = await _summaries(client, dossier_workflow_id(fragile))
        local = await _local_activities(client, dossier_workflow_id(fragile))
        child_summaries = await _summaries(client, consultation_workflow_id(fragile, "53"))

        scope = f" AND DossierNumber >= {fragile} AND DossierNumber <= {other}"
        fragile_in_bretagne = await _listed(
            client, readme_filter("territoires fragiles d'une région (Bretagne)") + scope,
            {dossier_workflow_id(fragile)})
        pending_in_bretagne = await _listed(
            client, readme_filter("CRA de Bretagne qui n'ont pas encore répondu") + scope,
            {dossier_workflow_id(fragile)})
        awaiting_decision = await _listed(
            client, readme_filter("dossiers en attente d'une décision du BESSII") + scope, set())
        await sync.terminate("test over")
        for number in (fragile, other):
            await client.get_workflow_handle(dossier_workflow_id(number)).terminate("test over")

    attrs = description.typed_search_attributes
    assert attrs.get(sa.DOSSIER_NUMBER) == fragile
    assert attrs.get(sa.DEMARCHE) == 1001
    assert attrs.get(sa.STAGE) == "admissibility"
    assert attrs.get(sa.REGIONS) == ["53"]
    assert attrs.get(sa.FRAGILE_TERRITORY) is True
    assert attrs.get(sa.CRA_PENDING) == ["53"]
    deadline = attrs.get(sa.STAGE_DEADLINE)
    assert deadline is not None
    assert abs(deadline - (datetime.now(UTC) + timedelta(days=21))) < timedelta(minutes=5)
    assert attrs.get(sa.DECISION) is None

    summary = await description.static_summary()
    assert summary == (f"n° {fragile} · Pôle de l’économie circulaire du pays de Brocéliande"
                       " · Bretagne")
    details = await description.static_details()
    assert details is not None and "| Territoire fragile | ZRR |" in details
    assert "maelle" not in (details + summary).lower()  # no personal data

    current = metadata.current_details
    assert "**Étape** : Examen de la recevabilité" in current
    # Who answered and the reminders sent so far, for each CRA (none yet here).
    assert "| CRA | État | Avis | Rendu par | Relances envoyées | Échéance |" in current
    assert re.search(r"\| Bretagne \| en attente \| — \| — \| 0 \| \d\d/\d\d/\d{4}", current)

    # The lean path (issue 18): the store steps are local activities, named by their type.
    assert summaries[:2] == ["Lecture du dossier sur la plateforme",
                             "Passage en instruction sur la plateforme"]
    assert local[:3] == ["store_snapshot", "store_record", "store_cra_pair"]
    assert sorted(child_summaries) == [
        "Invitation CRA Bretagne (Correspondant régional de l’ESS)",
        "Invitation CRA Bretagne (Représentant de la CRESS)"]
    assert child.typed_search_attributes.get(sa.STAGE) == "consultation"
    assert await child.static_summary() == f"Consultation CRA Bretagne · dossier n° {fragile}"

    assert fragile_in_bretagne == {dossier_workflow_id(fragile)}
    assert pending_in_bretagne == {dossier_workflow_id(fragile)}
    assert awaiting_decision == set()
