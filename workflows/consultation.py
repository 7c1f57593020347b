"""One regional committee (CRA) consulted on one dossier: a child workflow per region.

Both members of the pair get a personal link. Either may submit the committee's single opinion;
the other sees it and may amend it until the deadline. Reminders go only while no opinion is
recorded; at the deadline without an opinion BESSII is alerted and the consultation ends as
``NO_RESPONSE``: the procedure goes on without it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.mail.activities import MailActivities
    from activities.mail.models import CraLinkEmail, EmailRequest
    from core.domain.cra import OpinionSubmission, RecordedOpinion
    from core.domain.procedure import OPINION_LABELS, ConsultationStatus
    from core.domain.regions import region_name
    from core.ids import CONSULTATION_WORKFLOW
    from workflows import options
    from workflows import search_attributes as sa
    from workflows.payloads import ConsultationInput, ConsultationResult, OpinionNotice
    from workflows.waiting import wait_until, wait_with_reminders

OPINION_SIGNAL = "cra_opinion"


@workflow.defn(name=CONSULTATION_WORKFLOW)
class CraConsultationWorkflow:
    @workflow.init
    def __init__(self, input: ConsultationInput) -> None:
        self._input = input
        self._deadline: datetime = input.deadline
        self._opinion: RecordedOpinion | None = None
        self._closed = False
        self._reminders = 0

    def _context(self) -> dict[str, Any]:
        return {"number": self._input.number, "project": self._input.project,
                "structure": self._input.structure, "region": self._input.region}

    def _key(self, purpose: str) -> str:
        return f"{workflow.info().workflow_id}:{purpose}"

    async def _send_links(self, template: str, purpose: str) -> None:
        region = region_name(self._input.region)
        label = "Invitation" if template == "cra_invitation" else "Relance"
        await asyncio.gather(*(
            workflow.execute_activity_method(
                MailActivities.send_cra_link_email,
                CraLinkEmail(key=self._key(f"{purpose}:{m.id}"), template=template, member=m,
                             dossier_number=self._input.number, round=self._input.round,
                             deadline=self._deadline, context=self._context()),
                **options.external(f"{label} CRA {region} ({m.role})"),
            )
            for m in self._input.members
        ))

    async def _remind(self, n: int) -> None:
        self._reminders = n
        self._publish("consultation")
        await self._send_links("cra_reminder", f"reminder-{n}")

    def _publish(self, state: str) -> None:
        workflow.upsert_search_attributes([
            sa.DOSSIER_NUMBER.value_set(self._input.number),
            sa.DEMARCHE.value_set(self._input.demarche),
            sa.REGIONS.value_set([self._input.region]),
            sa.STAGE.value_set(state),
            sa.STAGE_DEADLINE.value_set(self._deadline),
        ])
        opinion = self._opinion
        lines = [f"**CRA** : {region_name(self._input.region)}",
                 f"**Échéance** : {self._deadline:%d/%m/%Y %H:%M} UTC",
                 f"**État** : {state}",
                 f"**Relances envoyées** : {self._reminders}"]
        if opinion is not None:
            lines.append(f"**Avis** : {OPINION_LABELS[opinion.opinion]} (rendu par "
                         f"{opinion.written_by}" + (f", modifié par {', '.join(opinion.amended_by)}"
                                                    if opinion.amended_by else "") + ")")
        workflow.set_current_details("\n\n".join(lines))

    @workflow.run
    async def run(self, input: ConsultationInput) -> ConsultationResult:
        self._publish("consultation")
        await self._send_links("cra_invitation", "invitation")
        region = region_name(input.region)
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
        if self._opinion is not None:
            status = ConsultationStatus.ANSWERED
        elif self._closed:
            status = ConsultationStatus.SKIPPED
        else:
            status = ConsultationStatus.NO_RESPONSE
            await workflow.execute_activity_method(
                MailActivities.send_email,
                EmailRequest(key=self._key("escalation"), template="cra_escalation",
                             to=[], to_bessii=True, dossier_number=input.number,
                             context={**self._context(), "deadline": self._deadline,
                                      "reminders": self._reminders}),
                **options.external(f"Alerte BESSII : CRA {region} sans avis"),
            )
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
                                      written_by=submission.member_id, written_at=now)
        else:
            opinion = previous.model_copy(update={
                "opinion": submission.opinion, "motivation": submission.motivation,
                "criteria_assessment": submission.criteria_assessment, "amended_at": now,
                "amended_by": [*previous.amended_by, submission.member_id],
            })
        self._opinion = opinion
        self._publish("consultation")
        parent = workflow.info().parent
        if parent is not None:
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                OPINION_SIGNAL, OpinionNotice(region=self._input.region, opinion=opinion))
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
    def close(self) -> None:
        """BESSII decided (or the dossier left the procedure): no more answers."""
        self._closed = True

    @workflow.query(name="consultation")
    def consultation(self) -> ConsultationResult:
        status = ConsultationStatus.ANSWERED if self._opinion else ConsultationStatus.PENDING
        return ConsultationResult(region=self._input.region, status=status,
                                  opinion=self._opinion, reminders_sent=self._reminders)

    @workflow.query(name="deadline")
    def deadline(self) -> datetime:
        return self._deadline
