"""Admin amendments of a CRA consultation: audited Updates with validators (deadline moved,
member replaced, link sent again, consultation skipped), each applied once per request id.
"""

from __future__ import annotations

import functools
from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.domain.admin import (
        ConsultationSkip,
        DeadlineChange,
        DeadlineNotice,
        LinkKind,
        LinkResend,
        MemberReplacement,
    )
    from core.domain.cra import CraContact
    from workflows import patches
    from workflows.payloads import MembersNotice

# The parts of the consultation workflow build on each other (workflow code: not passed through).
from workflows.consultation_state import DEADLINE_SIGNAL, MEMBERS_SIGNAL, ConsultationState


class ConsultationAmendments(ConsultationState):
    # New handlers only: old histories hold none of them, so they replay unchanged. A retry of
    # a request applied already (same Update id) is accepted and answered its first result.

    def _check_open(self) -> None:
        if self._closed:
            raise ApplicationError("consultation closed", type="ConsultationClosed")
        if workflow.now() >= self._deadline:
            raise ApplicationError("consultation deadline passed", type="DeadlinePassed")

    def _member_ids(self) -> set[str]:
        return {m.id for m in self._input.members}

    @workflow.update(name="change_deadline")
    async def change_deadline(self, change: DeadlineChange) -> datetime:
        if self._known():
            answered: datetime = self._answered()
            return answered
        self._deadline = change.deadline
        self._publish("consultation")
        parent = workflow.info().parent
        # A new command in an existing handler: executions that already moved a deadline
        # replay without it.
        if parent is not None and (self._lean or workflow.patched(patches.DEADLINE_NOTICE.id)):
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                DEADLINE_SIGNAL, DeadlineNotice(region=self._input.region,
                                                round=self._input.round, deadline=self._deadline))
        return self._done(self._deadline)

    @change_deadline.validator
    def _validate_deadline(self, change: DeadlineChange) -> None:
        if self._known():
            return
        if not self._movable:
            raise ApplicationError("this consultation predates movable deadlines",
                                   type="NotSupported")
        self._check_open()
        if change.deadline <= workflow.now():
            raise ApplicationError("the new deadline is in the past", type="InvalidDeadline")

    @workflow.update(name="replace_member")
    async def replace_member(self, change: MemberReplacement) -> list[CraContact]:
        if self._known():
            answered: list[CraContact] = self._answered()
            return answered
        self._replacements += 1
        self._input.members = [change.new_member if m.id == change.old_member_id else m
                               for m in self._input.members]
        self._publish("consultation")
        notice = MembersNotice(region=self._input.region, members=list(self._input.members))
        purpose = f"replacement-{self._replacements}"
        if self._queued:  # the notice and the invitation: by the queue's worker
            self._enqueue(functools.partial(self._replaced, notice, purpose, change.new_member))
        else:
            await self._replaced(notice, purpose, change.new_member)
        return self._done(self._input.members)

    async def _replaced(self, notice: MembersNotice, purpose: str, member: CraContact) -> None:
        parent = workflow.info().parent
        if parent is not None:
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                MEMBERS_SIGNAL, notice)
        await self._send_links("cra_invitation", purpose, [member])

    @replace_member.validator
    def _validate_replacement(self, change: MemberReplacement) -> None:
        if self._known():
            return
        self._check_open()
        if change.old_member_id not in self._member_ids():
            raise ApplicationError("unknown member for this consultation", type="UnknownMember")
        if change.new_member.id in self._member_ids():
            raise ApplicationError("already a member of this consultation", type="AlreadyMember")
        if change.new_member.region != self._input.region:
            raise ApplicationError("member of another region", type="WrongRegion")

    @workflow.update(name="resend_link")
    async def resend_link(self, request: LinkResend) -> str:
        if self._known():
            answered: str = self._answered()
            return answered
        # A counter in the key: each request sends exactly once, retries of it never twice.
        self._resends += 1
        purpose = f"resend-{self._resends}"
        template = ("cra_invitation" if request.kind is LinkKind.INVITATION else "cra_reminder")
        member = next(m for m in self._input.members if m.id == request.member_id)
        send = functools.partial(self._send_links, template, purpose, [member])
        if self._queued:  # sent by the queue's worker: the request returns at once
            self._enqueue(send)
        else:
            await send()
        return self._done(self._key(f"{purpose}:{member.id}"))

    @resend_link.validator
    def _validate_resend(self, request: LinkResend) -> None:
        if self._known():
            return
        self._check_open()
        if request.member_id not in self._member_ids():
            raise ApplicationError("unknown member for this consultation", type="UnknownMember")

    @workflow.update(name="skip")
    def skip(self, request: ConsultationSkip) -> str:
        if self._known():
            answered: str = self._answered()
            return answered
        self._skip_reason = request.reason
        self._closed = True
        return self._done(request.reason)

    @skip.validator
    def _validate_skip(self, request: ConsultationSkip) -> None:
        if self._known():
            return
        if self._closed:
            raise ApplicationError("consultation closed", type="ConsultationClosed")
        if self._opinion is not None:
            raise ApplicationError("the committee has answered", type="AlreadyAnswered")
