"""One regional committee (CRA) consulted on one dossier: a child workflow per region.

Both members of the pair get a personal link. Either may submit the committee's single opinion;
the other sees it and may amend it until the deadline. Reminders go only while no opinion is
recorded; at the deadline without one BESSII is alerted and it ends ``NO_RESPONSE``."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.mail.activities import MailActivities
    from activities.mail.models import CraLinkEmail, EmailRequest
    from core.domain.admin import (
        ConsultationSkip,
        DeadlineChange,
        DeadlineNotice,
        LinkKind,
        LinkResend,
        MemberReplacement,
    )
    from core.domain.cra import CraContact, OpinionSubmission, RecordedOpinion
    from core.domain.procedure import OPINION_LABELS, ConsultationStatus
    from core.domain.regions import region_name
    from core.ids import CONSULTATION_WORKFLOW
    from core.summaries import format_utc
    from workflows import options, patches
    from workflows import search_attributes as sa
    from workflows.blocking import Blocking, ClosedByAdmin
    from workflows.payloads import (
        CloseRequest,
        ConsultationInput,
        ConsultationPage,
        ConsultationResult,
        MembersNotice,
        OpinionNotice,
        ReminderNotice,
    )
    from workflows.waiting import wait_until, wait_with_moving_deadline, wait_with_reminders

OPINION_SIGNAL = "cra_opinion"
MEMBERS_SIGNAL = "cra_members"
DEADLINE_SIGNAL = "cra_deadline"
REMINDER_SIGNAL = "cra_reminder"


@workflow.defn(name=CONSULTATION_WORKFLOW)
class CraConsultationWorkflow(Blocking):
    @workflow.init
    def __init__(self, input: ConsultationInput) -> None:
        self._init_blocking()
        self._state = "consultation"  # what the search attribute and details say
        self._input = input
        self._deadline: datetime = input.deadline
        self._opinion: RecordedOpinion | None = None
        self._closed = False
        self._reminders = 0
        self._movable = False  # set by the run once past the ADMIN_AMENDMENTS marker
        self._resends = 0
        self._replacements = 0
        self._skip_reason: str | None = None
        self._notices: list[asyncio.Future[None]] = []  # opinion notices sent to the dossier

    def _context(self) -> dict[str, Any]:
        return {"number": self._input.number, "project": self._input.project,
                "structure": self._input.structure, "region": self._input.region}

    def _key(self, purpose: str) -> str:
        return f"{workflow.info().workflow_id}:{purpose}"

    async def _send_links(self, template: str, purpose: str,
                          members: list[CraContact] | None = None) -> None:
        region = region_name(self._input.region)
        label = "Invitation" if template == "cra_invitation" else "Relance"
        await asyncio.gather(*(
            self._send_link(template, purpose, m, f"{label} CRA {region} ({m.role})")
            for m in (self._input.members if members is None else members)
        ))

    async def _send_link(self, template: str, purpose: str, member: CraContact, label: str) -> None:
        email = CraLinkEmail(key=self._key(f"{purpose}:{member.id}"), template=template,
                             member=member, dossier_number=self._input.number,
                             round=self._input.round, deadline=self._deadline,
                             context=self._context())
        await self._guarded(f"email:{template}", label, lambda: workflow.execute_activity_method(
            MailActivities.send_cra_link_email, email, **options.external(label)))

    async def _remind(self, n: int) -> None:
        self._reminders = n
        self._publish("consultation")
        await self._send_links("cra_reminder", f"reminder-{n}")
        parent = workflow.info().parent
        # A new command after each reminder: consultations that reminded before it replay without.
        if parent is not None and workflow.patched(patches.REMINDER_NOTICE.id):
            with contextlib.suppress(ApplicationError):  # the dossier may have ended meanwhile
                await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                    REMINDER_SIGNAL, ReminderNotice(region=self._input.region,
                                                    round=self._input.round, reminders_sent=n))

    def _republish(self) -> None:
        self._publish(self._state)

    def _alert_context(self) -> dict[str, Any]:
        return {"number": self._input.number, "region": self._input.region}

    def _publish(self, state: str) -> None:
        self._state = state
        workflow.upsert_search_attributes([*self._block_attributes(), 
            sa.DOSSIER_NUMBER.value_set(self._input.number),
            sa.DEMARCHE.value_set(self._input.demarche),
            sa.REGIONS.value_set([self._input.region]),
            sa.STAGE.value_set(state),
            sa.STAGE_DEADLINE.value_set(self._deadline),
        ])
        opinion = self._opinion
        lines = [f"**CRA** : {region_name(self._input.region)}",
                 f"**Échéance** : {format_utc(self._deadline)}",
                 f"**État** : {state}",
                 f"**Relances envoyées** : {self._reminders}"]
        if opinion is not None:
            lines.append(f"**Avis** : {OPINION_LABELS[opinion.opinion]} (rendu par "
                         f"{opinion.written_by}" + (f", modifié par {', '.join(opinion.amended_by)}"
                                                    if opinion.amended_by else "") + ")")
        workflow.set_current_details("\n\n".join([*self._block_lines(), *lines]))

    @workflow.run
    async def run(self, input: ConsultationInput) -> ConsultationResult:
        try:
            return await self._consult(input)
        except ClosedByAdmin as closed:  # an admin closed it at a blocked step: no opinion
            self._skip_reason, self._closed = closed.resolution.reason, True
            await workflow.wait_condition(workflow.all_handlers_finished)
            await asyncio.gather(*self._notices)
            status = (ConsultationStatus.ANSWERED if self._opinion is not None
                      else ConsultationStatus.SKIPPED)
            self._publish(status.value)
            return ConsultationResult(region=input.region, status=status, opinion=self._opinion,
                                      reminders_sent=self._reminders)

    async def _consult(self, input: ConsultationInput) -> ConsultationResult:
        # First thing, so that an amendment is accepted as soon as the consultation exists.
        self._movable = workflow.patched(patches.ADMIN_AMENDMENTS.id)
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
        await workflow.wait_condition(workflow.all_handlers_finished)
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
            if workflow.patched(patches.PROMPT_ANSWER.id):
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

    # ----------------------------------------------------------------- admin amendments
    # New handlers only: old histories hold none of them, so they replay unchanged.

    def _check_open(self) -> None:
        if self._closed:
            raise ApplicationError("consultation closed", type="ConsultationClosed")
        if workflow.now() >= self._deadline:
            raise ApplicationError("consultation deadline passed", type="DeadlinePassed")

    def _member_ids(self) -> set[str]:
        return {m.id for m in self._input.members}

    @workflow.update(name="change_deadline")
    async def change_deadline(self, change: DeadlineChange) -> datetime:
        self._deadline = change.deadline
        self._publish("consultation")
        parent = workflow.info().parent
        # A new command in an existing handler: executions that already moved a deadline
        # replay without it.
        if parent is not None and workflow.patched(patches.DEADLINE_NOTICE.id):
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                DEADLINE_SIGNAL, DeadlineNotice(region=self._input.region,
                                                round=self._input.round, deadline=self._deadline))
        return self._deadline

    @change_deadline.validator
    def _validate_deadline(self, change: DeadlineChange) -> None:
        if not self._movable:
            raise ApplicationError("this consultation predates movable deadlines",
                                   type="NotSupported")
        self._check_open()
        if change.deadline <= workflow.now():
            raise ApplicationError("the new deadline is in the past", type="InvalidDeadline")

    @workflow.update(name="replace_member")
    async def replace_member(self, change: MemberReplacement) -> list[CraContact]:
        self._replacements += 1
        self._input.members = [change.new_member if m.id == change.old_member_id else m
                               for m in self._input.members]
        self._publish("consultation")
        parent = workflow.info().parent
        if parent is not None:
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                MEMBERS_SIGNAL, MembersNotice(region=self._input.region, members=self._input.members))
        await self._send_links("cra_invitation", f"replacement-{self._replacements}",
                               [change.new_member])
        return self._input.members

    @replace_member.validator
    def _validate_replacement(self, change: MemberReplacement) -> None:
        self._check_open()
        if change.old_member_id not in self._member_ids():
            raise ApplicationError("unknown member for this consultation", type="UnknownMember")
        if change.new_member.id in self._member_ids():
            raise ApplicationError("already a member of this consultation", type="AlreadyMember")
        if change.new_member.region != self._input.region:
            raise ApplicationError("member of another region", type="WrongRegion")

    @workflow.update(name="resend_link")
    async def resend_link(self, request: LinkResend) -> str:
        # A counter in the key: each request sends exactly once, retries of it never twice.
        self._resends += 1
        purpose = f"resend-{self._resends}"
        template = ("cra_invitation" if request.kind is LinkKind.INVITATION else "cra_reminder")
        member = next(m for m in self._input.members if m.id == request.member_id)
        await self._send_links(template, purpose, [member])
        return self._key(f"{purpose}:{member.id}")

    @resend_link.validator
    def _validate_resend(self, request: LinkResend) -> None:
        self._check_open()
        if request.member_id not in self._member_ids():
            raise ApplicationError("unknown member for this consultation", type="UnknownMember")

    @workflow.update(name="skip")
    def skip(self, request: ConsultationSkip) -> str:
        self._skip_reason = request.reason
        self._closed = True
        return request.reason

    @skip.validator
    def _validate_skip(self, request: ConsultationSkip) -> None:
        if self._closed:
            raise ApplicationError("consultation closed", type="ConsultationClosed")
        if self._opinion is not None:
            raise ApplicationError("the committee has answered", type="AlreadyAnswered")

    @workflow.signal(name="close")
    def close(self, request: CloseRequest | None = None) -> None:
        """BESSII decided (or the dossier left the procedure): no more answers. A bare close
        (no payload, so nothing the production codec could refuse: anyone reaching the
        frontend can send one) is ignored from ``patches.SEALED_CLOSE`` on."""
        if request is None and workflow.patched(patches.SEALED_CLOSE.id):
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
