"""Admin amendments on a real Temporal dev server (and one on the time-skipping server): each
one an audited Update with a validator; which CRA answers survive, and no email sent twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from api.admin.desk import AdminDesk
from api.cra.consultation import ConsultationGateway
from api.cra.errors import LinkRefused
from api.errors import Refused
from core.db.repositories import AdminActionRepository
from core.db.tables import CraMember, SentEmail
from core.domain.admin import (
    ConsultationSkip,
    DeadlineChange,
    LinkKind,
    LinkResend,
    MemberReplacement,
    ReferentCorrection,
    Withdrawal,
)
from core.domain.cra import CraContact
from core.domain.procedure import Agent, ConsultationStatus, Outcome, Stage
from core.ids import consultation_workflow_id, dossier_workflow_id
from core.links import LinkSigner
from tests.support import Stack
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

ADMIN = Agent(id="admin@finances.gouv.fr", name="Ada Admin")
NEW_ESS = CraContact(id="cra-53-ess-2", region="53", name="Nouvelle correspondante ESS",
                     email="new.ess.53@cra.localhost", role="Correspondant régional de l’ESS")


async def _no_email_twice(s: Stack, number: int) -> list[str]:
    keys = await s.sent_keys(number)
    assert len(keys) == len(set(keys))
    messages = await s.emails()
    ids = Counter(m["message_id"] for m in messages)
    assert all(n == 1 for n in ids.values())
    return keys


async def test_replace_member_resend_link_then_withdraw(dev_env: WorkflowEnvironment,
                                                        dev_stack: Stack) -> None:
    client, db = dev_env.client, dev_stack.res.db
    desk = AdminDesk(client, db)
    n = await dev_stack.file(0)  # Bretagne only
    async with dev_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and s.consultations)
        cra = consultation(client, n, "53")
        # The invitation of the original pair went out before we replace one of them.
        while len(await dev_stack.emails(subject="Avis de la CRA")) < 2:
            await asyncio.sleep(0.1)

        members = await desk.replace_member(n, "53", MemberReplacement(
            agent=ADMIN, reason="La correspondante ESS a quitté ses fonctions.",
            old_member_id="cra-53-ess", new_member=NEW_ESS))
        assert sorted(m.id for m in members) == ["cra-53-cress", "cra-53-ess-2"]
        with pytest.raises(WorkflowUpdateFailedError) as old_answer:
            await cra.execute_update(CraConsultationWorkflow.submit_opinion,
                                     opinion("cra-53-ess"))
        assert isinstance(old_answer.value.cause, ApplicationError)
        assert old_answer.value.cause.type == "UnknownMember"

        # The new member's signed link opens the consultation (the pages read the current
        # pair, not the one the consultation started with); the old member's no longer does.
        pages = ConsultationGateway(client, {})
        signer = LinkSigner.from_settings(dev_stack.settings.links)
        deadline = (await cra.query(CraConsultationWorkflow.deadline))
        opened = await pages.load(signer.claims_for(
            dossier=n, region="53", member="cra-53-ess-2", round=1, deadline=deadline),
            datetime.now(UTC))
        assert opened.open and "cra-53-ess-2" in opened.members
        with pytest.raises(LinkRefused):
            await pages.load(signer.claims_for(
                dossier=n, region="53", member="cra-53-ess", round=1, deadline=deadline),
                datetime.now(UTC))

        first = await desk.resend_link(n, "53", LinkResend(
            agent=ADMIN, reason="Lien égaré.", member_id="cra-53-ess-2"))
        second = await desk.resend_link(n, "53", LinkResend(
            agent=ADMIN, reason="Relance manuelle.", member_id="cra-53-ess-2",
            kind=LinkKind.REMINDER))
        assert first != second
        await cra.execute_update(CraConsultationWorkflow.submit_opinion,
                                 opinion("cra-53-ess-2", "favourable", "Ancrage solide."))
        with pytest.raises(Refused):  # answered: skipping would lose the answer
            await desk.skip_consultation(n, "53", ConsultationSkip(agent=ADMIN, reason="x"))
        stray = NEW_ESS.model_copy(update={"id": "cra-53-stray"})
        with pytest.raises(Refused):  # not a member of this consultation
            await desk.replace_member(n, "53", MemberReplacement(
                agent=ADMIN, reason="erreur", old_member_id="cra-53-nobody", new_member=stray))

        await desk.withdraw(n, Withdrawal(agent=ADMIN, reason="Courriel du porteur du 26/11."))
        result = await handle.result()
        await record_history(client, "member-replaced-link-resent-withdrawn",
                             dossier_workflow_id(n), consultation_workflow_id(n, "53"))

    # The answer of the new member survives the withdrawal.
    assert result.outcome is Outcome.SANS_SUITE
    assert result.motivation.startswith("Retrait à la demande du porteur de projet")
    assert result.consultations[0].status is ConsultationStatus.ANSWERED
    assert result.consultations[0].opinion is not None
    assert result.consultations[0].opinion.written_by == "cra-53-ess-2"
    assert (await dev_stack.dossier(n))["state"] == "sans_suite"
    to_new = [m for m in await dev_stack.emails() if m["to"] == [NEW_ESS.email]]
    assert len([m for m in to_new if "Avis de la CRA" in m["subject"]]) == 2  # invited, resent
    assert len([m for m in to_new if m["subject"].startswith("Rappel : avis")]) == 1
    to_old = [m for m in await dev_stack.emails() if m["to"] == ["ess.53@cra.localhost"]]
    assert len(to_old) == 1  # the first invitation, nothing after the replacement
    info = await dev_stack.emails(subject="Décision prise sur le dossier")
    assert sorted(info[0]["to"]) == ["cress.53@cra.localhost", NEW_ESS.email]
    assert len(await dev_stack.emails(subject="Décision sur votre candidature")) == 1
    keys = await _no_email_twice(dev_stack, n)
    assert first in keys and second in keys
    async with db.unit_of_work() as session:
        old = await session.get(CraMember, "cra-53-ess")
        new = await session.get(CraMember, "cra-53-ess-2")
        assert old is not None and not old.active  # the old links are refused at once
        assert new is not None and new.active
        assert await session.get(CraMember, "cra-53-stray") is None  # refused: not kept
        actions = await AdminActionRepository(session).list_for()
    assert [(a.action, a.result) for a in actions] == [
        ("replace_member", "done"), ("resend_link", "done"), ("resend_link", "done"),
        ("skip_consultation", "refused"), ("replace_member", "refused"), ("withdraw", "done")]
    assert all(a.actor_id == ADMIN.id and a.reason for a in actions)


async def test_skip_one_consultation_and_shorten_the_other(dev_env: WorkflowEnvironment,
                                                           dev_stack: Stack) -> None:
    client = dev_env.client
    desk = AdminDesk(client, dev_stack.res.db)
    n = await dev_stack.file(1)  # Occitanie + Nouvelle-Aquitaine
    async with dev_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY
                       and len(s.consultations) == 2)
        await desk.skip_consultation(n, "75", ConsultationSkip(
            agent=ADMIN, reason="CRA Nouvelle-Aquitaine en cours de renouvellement."))
        with pytest.raises(Refused):
            await desk.change_deadline(n, "76", DeadlineChange(
                agent=ADMIN, reason="erreur", deadline=datetime.now(UTC) - timedelta(days=1)))
        soon = datetime.now(UTC) + timedelta(seconds=3)
        assert await desk.change_deadline(n, "76", DeadlineChange(
            agent=ADMIN, reason="Comité avancé.", deadline=soon)) == soon
        before = await handle.query(DossierWorkflow.status)
        assert before.dossier is not None
        old_referent = before.dossier.referent.email
        corrected = await desk.correct_referent_email(n, ReferentCorrection(
            agent=ADMIN, reason="Adresse mal saisie par le porteur.",
            referent_email="referente.corrigee@example.org"))
        assert corrected.completeness is not None and corrected.completeness.complete
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        status = await wait_for(handle, lambda s: not any(
            c.status is ConsultationStatus.PENDING for c in s.consultations), timeout=30)
        await handle.execute_update(DossierWorkflow.record_decision, decision(Outcome.LAUREAT))
        result = await handle.result()
        await record_history(client, "skipped-shortened-referent", dossier_workflow_id(n),
                             consultation_workflow_id(n, "75"), consultation_workflow_id(n, "76"))

    by_region = {c.region: c.status for c in status.consultations}
    assert by_region == {"75": ConsultationStatus.SKIPPED, "76": ConsultationStatus.NO_RESPONSE}
    assert result.outcome is Outcome.LAUREAT
    assert len(await dev_stack.emails(subject="Sans avis de la CRA")) == 1
    applicant = await dev_stack.emails(subject="Décision sur votre candidature")
    # The corrected referent first; the platform account (here the old address) still gets it.
    assert len(applicant) == 1
    assert applicant[0]["to"] == ["referente.corrigee@example.org", old_referent]
    await _no_email_twice(dev_stack, n)


async def test_extended_deadline_rearms_the_timers(time_env: WorkflowEnvironment,
                                                   ts_stack: Stack) -> None:
    client = time_env.client
    desk = AdminDesk(client, ts_stack.res.db)
    n = await ts_stack.file(0)
    async with ts_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and s.consultations)
        cra = consultation(client, n, "53")
        old = await cra.query(CraConsultationWorkflow.deadline)
        await desk.change_deadline(n, "53", DeadlineChange(
            agent=ADMIN, reason="Congés de la CRA.", deadline=old + timedelta(days=10)))
        await time_env.sleep(timedelta(days=25))  # past the old deadline
        assert (await cra.query(CraConsultationWorkflow.consultation)).status is \
            ConsultationStatus.PENDING
        await cra.execute_update(CraConsultationWorkflow.submit_opinion, opinion("cra-53-ess"))
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await wait_for(handle, lambda s: s.stage is Stage.INSTRUCTION
                       and all(c.opinion for c in s.consultations))
        await handle.execute_update(DossierWorkflow.record_decision, decision(Outcome.LAUREAT))
        result = await handle.result()

    assert result.consultations[0].status is ConsultationStatus.ANSWERED
    assert not await ts_stack.emails(subject="Sans avis de la CRA")
    async with ts_stack.res.db.unit_of_work() as session:
        keys = list(await session.scalars(select(SentEmail.key)))
    assert consultation_workflow_id(n, "53") + ":escalation" not in keys
