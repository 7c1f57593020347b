"""Updates return at once and hand their slow work to the run (``patches.AMENDMENT_QUEUE``): a
consultation that cannot open (its step blocked) makes no other amendment "Busy"; the queued
work goes on, in order, once an admin resumes it. A link resend whose email is blocked answers
at once too."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from activities.mail.activities import MailActivities
from activities.store import StoreActivities
from api.admin.desk import AdminDesk
from core.domain.admin import BlockAction, BlockResolution, LinkResend, RegionCorrection
from core.domain.procedure import ConsultationStatus, Stage
from core.ids import consultation_workflow_id, dossier_workflow_id
from tests.support import Stack
from tests.workflows.helpers import start_dossier, wait_for
from tests.workflows.recording import record_history
from tests.workflows.test_admin_amendments import ADMIN
from tests.workflows.test_blocking import blocked, refuse_first
from workflows.consultation import CraConsultationWorkflow


async def _alert_sent(handle: Any) -> None:
    for _ in range(300):
        scheduled: set[int] = set()
        async for event in handle.fetch_history_events():
            if (event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED and event
                    .activity_task_scheduled_event_attributes.activity_type.name == "send_email"):
                scheduled.add(event.event_id)
            elif (event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
                  and event.activity_task_completed_event_attributes.scheduled_event_id
                  in scheduled):
                return
        await asyncio.sleep(0.1)
    raise AssertionError("the alert was never sent")


def _regions(status: object) -> dict[str, ConsultationStatus]:
    return {c.region: c.status for c in status.consultations}  # type: ignore[attr-defined]


async def test_a_blocked_consultation_makes_no_amendment_busy(
        dev_env: WorkflowEnvironment, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_first(StoreActivities, "cra_pair", monkeypatch, lambda region: region == "53")
    refuse_first(MailActivities, "send_cra_link_email", monkeypatch,
                 lambda email: ":resend-" in email.key)
    client = dev_env.client
    desk = AdminDesk(client, dev_stack.res.db)
    n = await dev_stack.file(1)  # Occitanie + Nouvelle-Aquitaine
    async with dev_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY
                       and all(c.invited_at for c in s.consultations))

        # Bretagne added: its CRA pair cannot be found (blocked), the correction answers.
        status = await asyncio.wait_for(desk.correct_regions(n, RegionCorrection(
            agent=ADMIN, reason="Le projet couvre aussi la Bretagne.",
            regions=["76", "75", "53"])), timeout=20)
        assert _regions(status)["53"] is ConsultationStatus.PENDING
        [block] = await blocked(handle)
        assert block.step == "cra_pair:53" and not block.closable

        # Another amendment meanwhile: accepted (formerly "Busy"), queued after the first.
        status = await asyncio.wait_for(desk.correct_regions(n, RegionCorrection(
            agent=ADMIN, reason="Nouvelle-Aquitaine saisie par erreur.",
            regions=["76", "53"])), timeout=20)
        assert list(_regions(status)) == ["76", "53"]
        nouvelle_aquitaine = client.get_workflow_handle_for(
            CraConsultationWorkflow.run, consultation_workflow_id(n, "75"))
        assert (await nouvelle_aquitaine.query(CraConsultationWorkflow.consultation)
                ).status is ConsultationStatus.PENDING  # behind the blocked opening

        # A resend whose email is refused: answered at once, the consultation shows the block.
        occitanie = client.get_workflow_handle_for(CraConsultationWorkflow.run,
                                                   consultation_workflow_id(n, "76"))
        key = await asyncio.wait_for(desk.resend_link(n, "76", LinkResend(
            agent=ADMIN, reason="Courriel perdu.", member_id="cra-76-ess")), timeout=20)
        assert key.endswith(":resend-1:cra-76-ess")
        [link_block] = await blocked(occitanie)
        assert link_block.step == "email:cra_invitation"
        await desk.resume(n, "76", BlockResolution(agent=ADMIN, reason="envoyé à la main",
                                                   action=BlockAction.SKIP))

        await desk.resume(n, None, BlockResolution(agent=ADMIN, reason="binôme ajouté",
                                                   action=BlockAction.RETRY))
        closed = await nouvelle_aquitaine.result()  # the second correction, after the first
        assert closed.status is ConsultationStatus.SKIPPED
        status = await wait_for(handle, lambda s: all(c.invited_at for c in s.consultations))
        assert list(_regions(status)) == ["76", "53"]
        assert status.stage_deadline is not None
        await handle.terminate("test over")
    await record_history(client, "amendment-queue", dossier_workflow_id(n),
                         consultation_workflow_id(n, "76"))


async def test_closed_while_opening_its_consultations_opens_no_more(
        time_env: WorkflowEnvironment, ts_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first region's CRA pair cannot be found: the run's own step, so an admin may close
    the dossier there; the second region's queued consultation is then never opened."""
    refuse_first(StoreActivities, "cra_pair", monkeypatch, lambda region: region == "76")
    client = time_env.client
    n = await ts_stack.file(1)  # Occitanie (main) + Nouvelle-Aquitaine
    async with ts_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        [block] = await blocked(handle)
        assert block.step == "cra_pair:76" and block.closable
        # The admins' alert delivered first: an activity still running when the dossier ends
        # would hold the time-skipping server's clock for the next tests.
        await _alert_sent(handle)
        await AdminDesk(client, ts_stack.res.db).resume(n, None, BlockResolution(
            agent=ADMIN, reason="dossier en double", action=BlockAction.CLOSE))
        result = await handle.result()
    assert result.outcome is None and result.motivation == "dossier en double"
    assert await ts_stack.emails(subject="Avis de la CRA") == []  # nobody invited
