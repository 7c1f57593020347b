"""A CRA consultation's state and the helpers its parts share: the links it emails, what the
Temporal UI shows of it (search attributes, current details). The parts build on it: the admin
amendments (``consultation_amendments``), then the workflow itself (``consultation``).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.mail.activities import MailActivities
    from activities.mail.models import CraLinkEmail
    from core.domain.cra import CraContact, RecordedOpinion
    from core.domain.procedure import OPINION_LABELS
    from core.domain.regions import region_name
    from core.summaries import format_utc
    from workflows import options
    from workflows import search_attributes as sa
    from workflows.blocking import Blocking
    from workflows.lean import Lean
    from workflows.payloads import ConsultationInput

OPINION_SIGNAL = "cra_opinion"
MEMBERS_SIGNAL = "cra_members"
DEADLINE_SIGNAL = "cra_deadline"
REMINDER_SIGNAL = "cra_reminder"


class ConsultationState(Lean, Blocking):
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

    def _republish(self) -> None:
        self._publish(self._state)

    def _alert_context(self) -> dict[str, Any]:
        return {"number": self._input.number, "region": self._input.region}

    def _publish(self, state: str) -> None:
        self._state = state
        self._upsert([  # lean: only what changed
            *self._block_attributes(), sa.DOSSIER_NUMBER.value_set(self._input.number),
            sa.DEMARCHE.value_set(self._input.demarche), sa.REGIONS.value_set([self._input.region]),
            sa.STAGE.value_set(state), sa.STAGE_DEADLINE.value_set(self._deadline)])
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
