"""What the platform refuses, through the whole dossier: a required private annotation left
empty parks the decision with a clear reason until an admin resumes it once it is filled; an
expired token leaves every dossier running, listed as stuck with the platform's words, and they
all finish once it is renewed. No platform error ends a dossier Failed."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.admin.desk import AdminDesk
from api.admin.stuck import StuckKind, find_stuck
from core.domain.admin import Block, BlockAction, BlockResolution
from core.domain.procedure import Agent, Outcome, Stage
from core.ids import dossier_workflow_id
from core.mapping import DEMO_DEMARCHE_FILE
from tests.support import TOKEN, Stack, stack
from tests.workflows.helpers import (
    admissible,
    consultation,
    decision,
    opinion,
    start_dossier,
    wait_for,
)
from tests.workflows.recording import record_history
from workflows.consultation import CraConsultationWorkflow
from workflows.dossier import DossierWorkflow

ADMIN = Agent(id="ada.admin@finances.gouv.fr", name="Ada Admin")
OPINIONS, STAGE, NOTE = "Q2hhbXAtMjAx", "Q2hhbXAtMjAy", "Q2hhbXAtMjAz"


@pytest.fixture
async def strict_stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """The démarche with a long-text "Avis des CRA" and a required "Note du comité"."""
    data = json.loads(DEMO_DEMARCHE_FILE.read_text())
    data["annotations"] = [
        {"id": OPINIONS, "label": "Avis des CRA", "type": "Textarea"},
        {"id": STAGE, "label": "Étape de la procédure", "type": "TextChamp"},
        {"id": NOTE, "label": "Note du comité", "type": "TextChamp", "required": True}]
    path = tmp_path / "demarche.json"
    path.write_text(json.dumps(data, ensure_ascii=False))
    async with stack(tmp_path, demarche_file=path) as s:
        yield s


async def _to_decision(client: Client, n: int, handle: WorkflowHandle[DossierWorkflow, Any],
                       region: str = "53") -> None:
    await wait_for(handle, lambda st: st.stage is Stage.ADMISSIBILITY and bool(st.consultations))
    await consultation(client, n, region).execute_update(
        CraConsultationWorkflow.submit_opinion, opinion(f"cra-{region}-ess"))
    await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
    await wait_for(handle, lambda st: st.stage is Stage.INSTRUCTION
                   and all(c.opinion for c in st.consultations))
    await handle.execute_update(DossierWorkflow.record_decision, decision(Outcome.LAUREAT))


async def _blocks(handle: WorkflowHandle[Any, Any]) -> list[Block]:
    for _ in range(300):
        with contextlib.suppress(RPCError):
            blocks: list[Block] = await handle.query("blocks", result_type=list[Block])
            if blocks:
                return blocks
        await asyncio.sleep(0.1)
    raise AssertionError("never blocked")


async def test_a_required_annotation_left_empty_parks_the_decision_until_an_admin_resumes(
        time_env: WorkflowEnvironment, strict_stack: Stack) -> None:
    s, client = strict_stack, time_env.client
    n = await s.file(0)
    async with s.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await _to_decision(client, n, handle)

        [block] = await _blocks(handle)
        assert block.step == "decide" and block.error_type == "PlatformRejected"
        assert block.message.startswith("annotations privées obligatoires non remplies : "
                                        "Note du comité")
        alert = await _emails(s, f"Dossier n° {n} bloqué")
        assert len(alert) == 1 and "Note du comité" in alert[0]["text"]

        # An agent fills it on the platform; an admin resumes the step.
        (await s.platform.patch(f"/_standin/dossiers/{n}/annotations", json={
            "annotations": [{"id": NOTE, "value": {"text": "17/20"}}]})).raise_for_status()
        await AdminDesk(client, s.res.db).resume(n, None, BlockResolution(
            agent=ADMIN, reason="note du comité saisie", action=BlockAction.RETRY))
        result = await handle.result()
        await record_history(client, "required-annotation", dossier_workflow_id(n))

    assert result.outcome is Outcome.LAUREAT
    assert (await s.dossier(n))["state"] == "accepte"
    mutations = await s.mutations(n)
    assert mutations.count("dossierModifierAnnotations") == 1  # annotate is not repeated
    assert mutations.count("dossierAccepter") == 1
    log = (await s.platform.get("/_standin/mutations", params={"dossier": n})).json()
    [annotate] = [m for m in log if m["name"] == "dossierModifierAnnotations"]
    keys = {a["id"]: next(iter(a["value"])) for a in annotate["input"]["annotations"]}
    assert keys == {OPINIONS: "textarea", STAGE: "text"}  # the long text as a textarea
    assert len(await s.emails(subject="Décision sur votre candidature")) == 1


async def _emails(s: Stack, subject: str) -> list[dict[str, Any]]:
    """The emails with this subject, once there is one (alerts go in the background)."""
    for _ in range(300):
        if found := await s.emails(subject=subject):
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"no email « {subject} »")


async def _stuck_on_the_token(client: Client, ids: set[str]) -> dict[str, str]:
    # Only these executions: the shared dev server holds every other test's too.
    within = "WorkflowId IN ({})".format(", ".join(f"'{i}'" for i in sorted(ids)))
    for _ in range(600):
        cases = {c.workflow_id: c for c in await find_stuck(client, datetime.now(UTC),
                                                            within=within)
                 if c.workflow_id in ids}
        reasons = {wid: r.detail for wid, c in cases.items() for r in c.reasons
                   if r.kind is StuckKind.ACTIVITY_RETRYING and "Token expired" in r.detail}
        if set(reasons) == ids:
            return reasons
        await asyncio.sleep(0.2)
    raise AssertionError(f"not all stuck on the token: {cases}")


async def test_an_expired_token_leaves_every_dossier_running_and_stuck_until_renewed(
        dev_env: WorkflowEnvironment, dev_stack: Stack) -> None:
    client, s = dev_env.client, dev_stack
    numbers = [await s.file(0) for _ in range(3)]
    async with s.worker(client) as worker:
        handles = [await start_dossier(client, n, worker.task_queue) for n in numbers]
        for handle in handles:
            await wait_for(handle, lambda st: st.stage is Stage.ADMISSIBILITY
                           and bool(st.consultations))
        # Mid-procedure, the token reaches its expiry date.
        (await s.platform.post("/_standin/tokens", json={"token": TOKEN, "expired": True})
         ).raise_for_status()
        await asyncio.gather(*(_to_decision(client, n, h) for n, h in zip(numbers, handles,
                                                                            strict=True)))

        reasons = await _stuck_on_the_token(client, {h.id for h in handles})
        assert all("platform_annotate" in r for r in reasons.values())
        for handle in handles:
            assert (await handle.describe()).status is WorkflowExecutionStatus.RUNNING
            assert await handle.query("blocks", result_type=list[Block]) == []  # not parked
        alerts = await _emails(s, "jeton d’API expiré")
        assert len(alerts) == 1  # one per cause and day, for every dossier and attempt
        assert "Token expired" in alerts[0]["text"]

        (await s.platform.post("/_standin/tokens", json={"token": TOKEN, "expired": False})
         ).raise_for_status()  # renewed
        results = await asyncio.gather(*(h.result() for h in handles))

    assert [r.outcome for r in results] == [Outcome.LAUREAT] * 3
    for n in numbers:
        assert (await s.mutations(n)).count("dossierAccepter") == 1
