"""Region correction, send-back and a deadline extension on a real Temporal dev server: which
CRA answers survive, which consultations open in a new round, and no email sent twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from api.admin.desk import AdminDesk
from api.errors import Refused
from core.db.repositories import AdminActionRepository
from core.domain.admin import BackTo, DeadlineChange, RegionCorrection, SendBack
from core.domain.dossier import TerritoryFlags
from core.domain.procedure import ConsultationStatus, Outcome, Stage
from core.ids import consultation_workflow_id, dossier_workflow_id
from tests.support import CONVERTER, Stack
from tests.workflows.helpers import (
    CLI_ADMIN,
    admin_cli,
    admissible,
    decision,
    opinion,
    start_dossier,
    wait_for,
)
from tests.workflows.recording import record_history
from tests.workflows.test_admin_amendments import ADMIN, _no_email_twice
from workflows.consultation import CraConsultationWorkflow
from workflows.dossier import DossierWorkflow
from workflows.payloads import DossierStatus
from workflows.registry import WORKFLOWS

INVITATION = "Avis de la CRA"


def _round(env: WorkflowEnvironment, n: int, region: str, round_: int = 1) -> Any:
    return env.client.get_workflow_handle_for(
        CraConsultationWorkflow.run, consultation_workflow_id(n, region, round_))


def _by_region(status: DossierStatus) -> dict[str, tuple[ConsultationStatus, str | None]]:
    return {c.region: (c.status, c.opinion.written_by if c.opinion else None)
            for c in status.consultations}


def _all_opened(status: DossierStatus) -> bool:
    """Every consultation of the dossier is open (an admin's correction answers at once; the
    consultations it opens follow a moment later, ``patches.AMENDMENT_QUEUE``)."""
    return all(c.invited_at is not None for c in status.consultations)


async def _invitations(s: Stack, email: str) -> int:
    return len([m for m in await s.emails(subject=INVITATION) if m["to"] == [email]])


async def _replays(env: WorkflowEnvironment, name: str, *workflow_ids: str) -> None:
    """The amended histories replay on the code that wrote them: the new paths are deterministic
    (and, when recording, they join the replay gate's histories)."""
    await record_history(env.client, name, *workflow_ids)
    replayer = Replayer(workflows=WORKFLOWS, data_converter=CONVERTER)
    for workflow_id in workflow_ids:
        await replayer.replay_workflow(await env.client.get_workflow_handle(workflow_id)
                                       .fetch_history())


async def test_a_region_corrected_before_the_consultation_is_the_one_consulted(
        dev_env: WorkflowEnvironment, dev_stack: Stack) -> None:
    client = dev_env.client
    desk = AdminDesk(client, dev_stack.res.db)
    n = await dev_stack.file(0, region=None)  # the applicant left the region out
    async with dev_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        waiting = await wait_for(handle, lambda s: s.stage is Stage.AWAITING_CORRECTION)
        assert waiting.completeness is not None
        assert "regions" in [i.field for i in waiting.completeness.issues]
        await desk.correct_regions(n, RegionCorrection(
            agent=ADMIN, reason="Région indiquée dans le courrier d’accompagnement.",
            regions=["Bretagne"], territory=TerritoryFlags(zrr=True, qpv=True)))
        # Re-checked: the region was the only missing item, so the procedure goes on.
        status = await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY
                                and s.consultations)
        assert status.dossier is not None and status.dossier.regions == ["53"]
        assert status.territory == TerritoryFlags(zrr=True, qpv=True)
        assert [c.region for c in status.consultations] == ["53"]
        ids = await handle.query(DossierWorkflow.consultation_ids)
        assert ids == {"53": consultation_workflow_id(n, "53")}
        for _ in range(100):  # the consultation sends its invitations right after it starts
            if await _invitations(dev_stack, "ess.53@cra.localhost"):
                break
            await asyncio.sleep(0.2)
        await handle.terminate("test over")

    assert await _invitations(dev_stack, "ess.53@cra.localhost") == 1
    await _no_email_twice(dev_stack, n)
    async with dev_stack.res.db.unit_of_work() as session:
        actions = await AdminActionRepository(session).list_for(dossier_workflow_id(n))
    assert [(a.action, a.result) for a in actions] == [("correct_regions", "done")]


async def test_a_region_corrected_during_the_consultation(
        dev_env: WorkflowEnvironment, dev_stack: Stack,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Nouvelle-Aquitaine was a mistake for Bretagne: its consultation closes unanswered, the
    Bretagne CRA is consulted, Occitanie's answer survives; Nouvelle-Aquitaine added back is
    consulted in a new round (new id, new links, new emails)."""
    client = dev_env.client
    desk = AdminDesk(client, dev_stack.res.db)
    n = await dev_stack.file(1)  # Occitanie + Nouvelle-Aquitaine
    async with dev_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY
                       and len(s.consultations) == 2)
        await _round(dev_env, n, "76").execute_update(
            CraConsultationWorkflow.submit_opinion, opinion("cra-76-ess", "favourable"))
        await wait_for(handle, lambda s: _by_region(s)["76"][1] == "cra-76-ess")

        done = await admin_cli(monkeypatch, dev_env, dev_stack, "regions", str(n), "76", "53",
                          "--reason", "Erreur de saisie : Bretagne et non Nouvelle-Aquitaine.")
        assert done.exit_code == 0, done.output
        assert "Bretagne (pending)" in done.output
        status = await wait_for(handle, lambda s: list(_by_region(s)) == ["76", "53"])
        assert _by_region(status) == {"76": (ConsultationStatus.ANSWERED, "cra-76-ess"),
                                      "53": (ConsultationStatus.PENDING, None)}
        closed = await _round(dev_env, n, "75").result()
        assert closed.status is ConsultationStatus.SKIPPED
        with pytest.raises(Refused):  # the same regions again: nothing to correct
            await desk.correct_regions(n, RegionCorrection(agent=ADMIN, reason="doublon",
                                                           regions=["76", "53"]))

        await desk.correct_regions(n, RegionCorrection(
            agent=ADMIN, reason="Le projet couvre aussi la Nouvelle-Aquitaine.",
            regions=["76", "53", "75"]))
        assert (await handle.query(DossierWorkflow.consultation_ids))["75"] == \
            consultation_workflow_id(n, "75", 2)
        await wait_for(handle, _all_opened)  # the correction answered; its consultation follows
        with pytest.raises(RPCError):  # the first round is over: its links answer nothing
            await _round(dev_env, n, "75").execute_update(
                CraConsultationWorkflow.submit_opinion, opinion("cra-75-ess"))
        await _round(dev_env, n, "75", 2).execute_update(
            CraConsultationWorkflow.submit_opinion, opinion("cra-75-cress", "unfavourable"))
        await _round(dev_env, n, "53").execute_update(
            CraConsultationWorkflow.submit_opinion, opinion("cra-53-ess"))
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await wait_for(handle, lambda s: s.stage is Stage.INSTRUCTION and all(
            c.status is ConsultationStatus.ANSWERED for c in s.consultations))
        await handle.execute_update(DossierWorkflow.record_decision, decision(Outcome.LAUREAT))
        result = await handle.result()

    assert {c.region: c.opinion.written_by for c in result.consultations if c.opinion} == {
        "76": "cra-76-ess", "53": "cra-53-ess", "75": "cra-75-cress"}
    assert await _invitations(dev_stack, "ess.76@cra.localhost") == 1
    assert await _invitations(dev_stack, "ess.53@cra.localhost") == 1
    assert await _invitations(dev_stack, "ess.75@cra.localhost") == 2  # rounds 1 and 2
    [info] = await dev_stack.emails(subject="Décision prise sur le dossier")
    assert len(info["to"]) == 6
    keys = await _no_email_twice(dev_stack, n)
    assert any(k.startswith(consultation_workflow_id(n, "75", 2) + ":invitation") for k in keys)
    await _replays(dev_env, "regions-corrected", dossier_workflow_id(n),
                   consultation_workflow_id(n, "75"),
                   consultation_workflow_id(n, "75", 2))
    async with dev_stack.res.db.unit_of_work() as session:
        actions = await AdminActionRepository(session).list_for(dossier_workflow_id(n))
    assert [(a.action, a.result, a.actor_id) for a in actions] == [
        ("correct_regions", "done", CLI_ADMIN), ("correct_regions", "refused", ADMIN.id),
        ("correct_regions", "done", ADMIN.id)]


async def test_send_back_to_admissibility_then_to_one_consultation(
        dev_env: WorkflowEnvironment, dev_stack: Stack,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Both answers survive the return to admissibility; the committee consulted again gives a
    new opinion in round 2 that replaces its first one; the other answer survives."""
    client = dev_env.client
    desk = AdminDesk(client, dev_stack.res.db)
    n = await dev_stack.file(1)  # Occitanie + Nouvelle-Aquitaine
    async with dev_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY
                       and len(s.consultations) == 2)
        with pytest.raises(Refused):  # still waiting for both answers: nothing to re-open
            await desk.send_back(n, SendBack(agent=ADMIN, reason="x", to=BackTo.CONSULTATION))
        await _round(dev_env, n, "76").execute_update(
            CraConsultationWorkflow.submit_opinion, opinion("cra-76-ess", "favourable"))
        await _round(dev_env, n, "75").execute_update(
            CraConsultationWorkflow.submit_opinion, opinion("cra-75-ess", "favourable"))
        with pytest.raises(Refused):  # admissibility is not behind the dossier yet
            await desk.send_back(n, SendBack(agent=ADMIN, reason="x", to=BackTo.ADMISSIBILITY))
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await wait_for(handle, lambda s: s.stage is Stage.INSTRUCTION and all(
            c.status is ConsultationStatus.ANSWERED for c in s.consultations))

        done = await admin_cli(monkeypatch, dev_env, dev_stack, "send-back", str(n),
                          "--to", "admissibility", "--reason", "Statuts à vérifier à nouveau.")
        assert done.exit_code == 0, done.output
        status = await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY)
        assert status.admissibility is None
        assert _by_region(status) == {"76": (ConsultationStatus.ANSWERED, "cra-76-ess"),
                                      "75": (ConsultationStatus.ANSWERED, "cra-75-ess")}
        with pytest.raises(WorkflowUpdateFailedError):  # no decision before admissibility
            await handle.execute_update(DossierWorkflow.record_decision,
                                        decision(Outcome.LAUREAT))

        status = await desk.send_back(n, SendBack(
            agent=ADMIN, reason="Le projet a changé de périmètre en Nouvelle-Aquitaine.",
            to=BackTo.CONSULTATION, regions=["75"]))
        assert _by_region(status) == {"76": (ConsultationStatus.ANSWERED, "cra-76-ess"),
                                      "75": (ConsultationStatus.PENDING, None)}
        assert (await _round(dev_env, n, "75").result()).opinion is not None  # round 1 closed
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await wait_for(handle, lambda s: s.stage is Stage.INSTRUCTION)
        with pytest.raises(WorkflowUpdateFailedError) as open_:  # waits for round 2
            await handle.execute_update(DossierWorkflow.record_decision,
                                        decision(Outcome.LAUREAT))
        assert isinstance(open_.value.cause, ApplicationError)
        assert open_.value.cause.type == "ConsultationOpen"
        await wait_for(handle, _all_opened)  # round 2, opened by the queue once answered
        await _round(dev_env, n, "75", 2).execute_update(
            CraConsultationWorkflow.submit_opinion,
            opinion("cra-75-cress", "favourable_with_reservations", "Périmètre réduit."))
        await wait_for(handle, lambda s: _by_region(s)["75"][1] == "cra-75-cress")
        await handle.execute_update(DossierWorkflow.record_decision, decision(Outcome.LAUREAT))
        result = await handle.result()

    assert result.outcome is Outcome.LAUREAT
    assert {c.region: c.opinion.written_by for c in result.consultations if c.opinion} == {
        "76": "cra-76-ess", "75": "cra-75-cress"}
    assert await _invitations(dev_stack, "ess.76@cra.localhost") == 1
    assert await _invitations(dev_stack, "cress.75@cra.localhost") == 2  # rounds 1 and 2
    assert len(await dev_stack.emails(subject="Décision sur votre candidature")) == 1
    await _no_email_twice(dev_stack, n)
    await _replays(dev_env, "sent-back", dossier_workflow_id(n),
                   consultation_workflow_id(n, "75", 2))
    async with dev_stack.res.db.unit_of_work() as session:
        actions = await AdminActionRepository(session).list_for(dossier_workflow_id(n))
    assert [(a.action, a.result) for a in actions] == [
        ("send_back", "refused"), ("send_back", "refused"), ("send_back", "done"),
        ("send_back", "done")]


async def test_an_extended_deadline_keeps_the_consultation_open_past_the_old_one(
        dev_env: WorkflowEnvironment, dev_stack: Stack) -> None:
    client = dev_env.client
    desk = AdminDesk(client, dev_stack.res.db)
    n = await dev_stack.file(0)
    async with dev_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and s.consultations)
        cra = _round(dev_env, n, "53")
        soon = datetime.now(UTC) + timedelta(seconds=4)
        await desk.change_deadline(n, "53", DeadlineChange(
            agent=ADMIN, reason="Comité avancé.", deadline=soon))
        later = datetime.now(UTC) + timedelta(minutes=5)
        await desk.change_deadline(n, "53", DeadlineChange(
            agent=ADMIN, reason="Finalement, le comité se réunit plus tard.", deadline=later))
        await asyncio.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 2)
        # Past the shortened deadline: still open, the timer was re-armed on the new one.
        assert (await cra.query(CraConsultationWorkflow.consultation)).status is \
            ConsultationStatus.PENDING
        assert await cra.query(CraConsultationWorkflow.deadline) == later
        # The dossier was told: its stage deadline (what `stuck` and the agents read) moved too.
        status = await wait_for(handle, lambda s: s.stage_deadline == later)
        assert status.consultations[0].deadline == later
        await cra.execute_update(CraConsultationWorkflow.submit_opinion, opinion("cra-53-cress"))
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await wait_for(handle, lambda s: s.stage is Stage.INSTRUCTION
                       and s.consultations[0].status is ConsultationStatus.ANSWERED)
        await handle.execute_update(DossierWorkflow.record_decision, decision(Outcome.LAUREAT))
        result = await handle.result()

    assert result.consultations[0].status is ConsultationStatus.ANSWERED
    assert result.consultations[0].opinion is not None
    assert result.consultations[0].opinion.written_by == "cra-53-cress"
    assert not await dev_stack.emails(subject="Sans avis de la CRA")
    keys = await _no_email_twice(dev_stack, n)
    assert consultation_workflow_id(n, "53") + ":escalation" not in keys
    await _replays(dev_env, "deadline-moved", dossier_workflow_id(n),
                   consultation_workflow_id(n, "53"))
