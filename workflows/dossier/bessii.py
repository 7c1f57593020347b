"""BESSII's part: the waits on the ministry office with weekly reminders, and its Updates
(admissibility, eligibility criteria, decision), each with a validator.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.domain.procedure import Stage
    from core.domain.regions import region_name
    from workflows import tracing
    from workflows.payloads import (
        AdmissibilityDecision,
        DecisionRequest,
        EligibilityRecord,
        UpdateAck,
    )
    from workflows.waiting import wait_with_reminders

# The parts of the dossier workflow build on each other (workflow code: not passed through).
from workflows.dossier.notification import Notification

_BESSII_REMINDERS = 26  # then the wait goes on without timers


class BessiiDecisions(Notification):
    async def _wait_for_bessii(self, done: Callable[[], bool], task: str, short: str) -> None:
        since = workflow.now()
        lap = f"-{self._passes + 1}" if self._passes else ""  # sent back: reminders of its own
        every = self._policy.bessii_reminder_every
        first = since + self._policy.bessii_reminder_after
        await wait_with_reminders(
            lambda: done() or self._deleted, None,
            [first + every * i for i in range(_BESSII_REMINDERS)],
            lambda n: self._email(f"bessii-reminder-{short}{lap}-{n}", "bessii_reminder", [],
                                  f"Relance BESSII : {short}", {"task": task, "since": since},
                                  to_bessii=True),
            summary=f"Attente BESSII : {short}",
            reminder_summary=f"Relance BESSII : {short}",
        )

    def _awaiting_decision(self) -> bool:
        """The dossier's state, not the run's position: admissible, the decision is next, even
        before the run has entered the instruction (an Update re-applied after a reset, or
        arriving in the same task as the admissibility). Accepts all it accepted before."""
        return self._stage is Stage.INSTRUCTION or (
            self._stage is Stage.ADMISSIBILITY and self._admissibility is not None
            and self._admissibility.admissible)

    @workflow.update(name="confirm_admissibility")
    async def confirm_admissibility(self, decision: AdmissibilityDecision) -> UpdateAck:
        if self._known():  # a retry of a request applied already: changes nothing
            return self._again()
        self._admissibility = decision
        verdict = "recevable" if decision.admissible else "non recevable"
        self._step(f"Recevabilité : {verdict}", by=decision.agent.name)
        self._mark()
        return self._ack("confirm_admissibility")

    @confirm_admissibility.validator
    def _validate_admissibility(self, decision: AdmissibilityDecision) -> None:
        if self._known():
            return
        if self._stage is not Stage.ADMISSIBILITY or self._admissibility is not None:
            raise ApplicationError(f"admissibility cannot be recorded at stage {self._stage}",
                                   type="WrongStage")

    @workflow.update(name="record_eligibility")
    async def record_eligibility(self, record: EligibilityRecord) -> UpdateAck:
        if self._known():
            return self._again()
        self._eligibility = record
        majority = "majorité atteinte" if record.assessment.majority else "majorité non atteinte"
        self._step(f"Critères d’éligibilité enregistrés ({majority})", by=record.agent.name)
        self._mark()
        return self._ack("record_eligibility")

    @record_eligibility.validator
    def _validate_eligibility(self, record: EligibilityRecord) -> None:
        if self._known():
            return
        if self._stage not in (Stage.ADMISSIBILITY, Stage.INSTRUCTION):
            raise ApplicationError(f"eligibility cannot be recorded at stage {self._stage}",
                                   type="WrongStage")

    @workflow.update(name="record_decision")
    async def record_decision(self, decision: DecisionRequest) -> UpdateAck:
        if self._known():
            return self._again()
        self._decision = decision
        self._decision_trace = tracing.current()  # the notification joins the agent's trace
        self._step(f"Décision : {decision.outcome}", by=decision.agent.name)
        if decision.override_reason:
            self._step(f"Décision avant la fin de la consultation : {decision.override_reason}",
                       by=decision.agent.name)
        return self._ack("record_decision")

    @record_decision.validator
    def _validate_decision(self, decision: DecisionRequest) -> None:
        if self._known():
            return
        if not self._awaiting_decision() or self._decision is not None:
            raise ApplicationError(f"a decision cannot be recorded at stage {self._stage}",
                                   type="WrongStage")
        pending = self._pending_regions()
        if pending and not (decision.override_reason and decision.override_reason.strip()):
            names = ", ".join(region_name(r) for r in pending)
            raise ApplicationError(f"CRA consultation still open: {names}",
                                   type="ConsultationOpen")

