"""One regional committee (CRA) consulted on one dossier: a child workflow per region.

Both members of the pair get a personal link. Either may submit the committee's single opinion;
the other sees it and may amend it until the deadline. Reminders go only while no opinion is
recorded; at the deadline without one BESSII is alerted and it ends ``NO_RESPONSE``."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.mail.activities import MailActivities
    from activities.mail.models import EmailRequest
    from core.domain.cra import CraContact, OpinionSubmission, RecordedOpinion
    from core.domain.procedure import ConsultationStatus
    from core.domain.regions import region_name
    from core.ids import CONSULTATION_WORKFLOW
    from workflows import options, patches
    from workflows.blocking import ClosedByAdmin
    from workflows.payloads import (
        CloseRequest,
        ConsultationInput,
        ConsultationPage,
        ConsultationResult,
        OpinionNotice,
        ReminderNotice,
    )
    from workflows.waiting import wait_until, wait_with_moving_deadline, wait_with_reminders

# The parts of the consultation workflow build on each other (workflow code: not passed through).
from workflows.consultation_amendments import ConsultationAmendments
from workflows.consultation_state import (
    DEADLINE_SIGNAL,
    MEMBERS_SIGNAL,
    OPINION_SIGNAL,
    REMINDER_SIGNAL,
)

__all__ = ["DEADLINE_SIGNAL", "MEMBERS_SIGNAL", "OPINION_SIGNAL", "REMINDER_SIGNAL",
           "CraConsultationWorkflow"]


@workflow.defn(name=CONSULTATION_WORKFLOW)
class CraConsultationWorkflow(ConsultationAmendments):
    @workflow.init
    def __init__(self, input: ConsultationInput) -> None:
        super().__init__(input)

    async def _remind(self, n: int) -> None:
        self._reminders = n
        self._publish("consultation")
        await self._send_links("cra_reminder", f"reminder-{n}")
        parent = workflow.info().parent
        # A new command after each reminder: consultations that reminded before it replay without.
        if parent is not None and (self._lean or workflow.patched(patches.REMINDER_NOTICE.id)):
            with contextlib.suppress(ApplicationError):  # the dossier may have ended meanwhile
                await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                    REMINDER_SIGNAL, ReminderNotice(region=self._input.region,
                                                    round=self._input.round, reminders_sent=n))

    @workflow.run
    async def run(self, input: ConsultationInput) -> ConsultationResult:
        self._start_lean()  # once, first: the lean path or the former commands, for good
        try:
            return await self._consult(input)
        except ClosedByAdmin as closed:  # an admin closed it at a blocked step: no opinion
            self._skip_reason, self._closed = closed.resolution.reason, True
            await workflow.wait_condition(lambda: workflow.all_handlers_finished()
                                      and self._drained())
            await asyncio.gather(*self._notices)
            status = (ConsultationStatus.ANSWERED if self._opinion is not None
                      else ConsultationStatus.SKIPPED)
            self._publish(status.value)
            return ConsultationResult(region=input.region, status=status, opinion=self._opinion,
                                      reminders_sent=self._reminders)

    async def _consult(self, input: ConsultationInput) -> ConsultationResult:
        # First thing, so that an amendment is accepted as soon as the consultation exists.
        self._movable = self._lean or workflow.patched(patches.ADMIN_AMENDMENTS.id)
        self._start_queue()  # admin amendments' emails and notices: by the queue's worker
        self._publish("consultation")
        await self._send_links("cra_invitation", "invitation")
        region = region_name(input.region)
        if self._movable:
            await wait_with_moving_deadline(
                lambda: self._opinion is not None or self._closed, lambda: self._deadline,
                input.reminders, self._remind, summary=f"Échéance consultation CRA {region}",
                reminder_summary=f"Prochaine relance CRA {region}")
            await wait_with_moving_deadline(
                lambda: self._closed, lambda: self._deadline, [], self._remind,
                summary=f"Échéance consultation CRA {region}", reminder_summary="")
        else:
            await wait_with_reminders(
                lambda: self._opinion is not None or self._closed,
                self._deadline,
                input.reminders,
                self._remind,
                summary=f"Échéance consultation CRA {region}",
                reminder_summary=f"Prochaine relance CRA {region}",
            )
            # Once answered, the pair may still amend until the deadline or until BESSII decides.
            await wait_until(lambda: self._closed, self._deadline,
                             f"Échéance consultation CRA {region}")
        await workflow.wait_condition(lambda: workflow.all_handlers_finished()
                                      and self._drained())
        await asyncio.gather(*self._notices)  # every opinion notice delivered to the dossier
        if self._opinion is not None:
            status = ConsultationStatus.ANSWERED
        elif self._closed:
            status = ConsultationStatus.SKIPPED
        else:
            status = ConsultationStatus.NO_RESPONSE
            escalation = EmailRequest(
                key=self._key("escalation"), template="cra_escalation", to=[], to_bessii=True,
                dossier_number=input.number, context={**self._context(), "deadline": self._deadline,
                                                      "reminders": self._reminders})
            label = f"Alerte BESSII : CRA {region} sans avis"
            await self._guarded("email:cra_escalation", label,
                                lambda: workflow.execute_activity_method(
                                    MailActivities.send_email, escalation,
                                    **options.external(label)))
        self._publish(status.value)
        return ConsultationResult(region=input.region, status=status, opinion=self._opinion,
                                  reminders_sent=self._reminders)

    @workflow.update(name="submit_opinion")
    async def submit_opinion(self, submission: OpinionSubmission) -> RecordedOpinion:
        now = workflow.now()
        previous = self._opinion
        if previous is None:
            opinion = RecordedOpinion(opinion=submission.opinion, motivation=submission.motivation,
                                      criteria_assessment=submission.criteria_assessment,
                                      appreciations=submission.appreciations,
                                      written_by=submission.member_id, written_at=now)
        else:
            # Pure state: the appreciations (optional, empty in older submissions) add no command.
            opinion = previous.model_copy(update={
                "opinion": submission.opinion, "motivation": submission.motivation,
                "criteria_assessment": submission.criteria_assessment,
                "appreciations": submission.appreciations, "amended_at": now,
                "amended_by": [*previous.amended_by, submission.member_id],
            })
        self._opinion = opinion
        self._publish("consultation")
        parent = workflow.info().parent
        if parent is not None:
            notice = workflow.get_external_workflow_handle(parent.workflow_id).signal(
                OPINION_SIGNAL, OpinionNotice(region=self._input.region, opinion=opinion,
                                              round=self._input.round))
            if self._lean or workflow.patched(patches.PROMPT_ANSWER.id):
                # Sent in this workflow task, in answer order; the run awaits its delivery.
                self._notices.append(asyncio.ensure_future(notice))
            else:
                await notice
        return opinion

    @submit_opinion.validator
    def _validate_opinion(self, submission: OpinionSubmission) -> None:
        if self._closed:
            raise ApplicationError("consultation closed", type="ConsultationClosed")
        if workflow.now() >= self._deadline:
            raise ApplicationError("consultation deadline passed", type="DeadlinePassed")
        if submission.member_id not in {m.id for m in self._input.members}:
            raise ApplicationError("unknown member for this consultation", type="UnknownMember")

    @workflow.signal(name="close")
    def close(self, request: CloseRequest | None = None) -> None:
        """BESSII decided (or the dossier left the procedure): no more answers. A bare close
        (no payload, so nothing the production codec could refuse: anyone reaching the
        frontend can send one) is ignored from ``patches.SEALED_CLOSE`` on."""
        if request is None and (self._lean or workflow.patched(patches.SEALED_CLOSE.id)):
            workflow.logger.warning("close signal without its sealed payload: ignored")
            return
        self._closed = True

    @workflow.query(name="consultation")
    def consultation(self) -> ConsultationResult:
        status = ConsultationStatus.ANSWERED if self._opinion else ConsultationStatus.PENDING
        if self._opinion is None and self._skip_reason is not None:
            status = ConsultationStatus.SKIPPED
        return ConsultationResult(region=self._input.region, status=status,
                                  opinion=self._opinion, reminders_sent=self._reminders)

    @workflow.query(name="page")
    def page(self) -> ConsultationPage:
        return ConsultationPage(consultation=self.consultation(), deadline=self._deadline,
                                members=self._input.members)

    @workflow.query(name="members")
    def members(self) -> list[CraContact]:
        return self._input.members

    @workflow.query(name="deadline")
    def deadline(self) -> datetime:
        return self._deadline
