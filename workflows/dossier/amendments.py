"""Admin amendments of a running dossier: audited Updates with validators (withdrawal, referent
email, regions, send-back), and the consultation changes they cause.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.domain.admin import BackTo, ReferentCorrection, RegionCorrection, SendBack, Withdrawal
    from core.domain.procedure import OPINION_LABELS, ConsultationStatus, Outcome, Stage
    from core.domain.regions import region_name
    from workflows import patches
    from workflows.payloads import AdmissibilityDecision, DecisionRequest, UpdateAck
    from workflows.requests import Job

# The parts of the dossier workflow build on each other (workflow code: not passed through).
from workflows.dossier.bessii import BessiiDecisions
from workflows.dossier.state import NEXT_STEP


class Amendments(BessiiDecisions):
    # New handlers only: they add nothing to the command sequence of old histories.

    @workflow.update(name="withdraw")
    def withdraw(self, request: Withdrawal) -> UpdateAck:
        """The applicant asked to withdraw: the normal end *sans suite* (platform, applicant and
        CRA emails), with the applicant's request as motivation."""
        if self._known():  # a retry of a request applied already: changes nothing
            return self._again()
        motivation = f"Retrait à la demande du porteur de projet : {request.reason}"
        if self._admissibility is None:
            self._admissibility = AdmissibilityDecision(agent=request.agent, admissible=False,
                                                        reason=motivation)
        else:
            self._decision = DecisionRequest(agent=request.agent, outcome=Outcome.SANS_SUITE,
                                             motivation=motivation)
        self._step("Retrait du dossier à la demande du porteur de projet", by=request.agent.name)
        return self._ack("withdraw")

    @withdraw.validator
    def _validate_withdraw(self, request: Withdrawal) -> None:
        if self._known():
            return
        waiting = (self._stage is Stage.ADMISSIBILITY and self._admissibility is None) or (
            self._awaiting_decision() and self._decision is None)
        if not waiting:
            raise ApplicationError(f"cannot withdraw at stage {self._stage}", type="WrongStage")

    @workflow.update(name="correct_referent_email")
    def correct_referent_email(self, correction: ReferentCorrection) -> UpdateAck:
        if self._known():
            return self._again()
        assert self._dossier is not None
        self._referent_email = correction.referent_email
        self._dossier = self._corrected(self._dossier)
        self._report = self._check(self._dossier)
        # While awaiting a correction, the wait re-reads the dossier and re-checks it. The flag
        # also survives a correction arriving before the wait; executions corrected before it
        # existed replay with the old one (it could be lost, never re-read twice).
        if workflow.patched(patches.ADMIN_RECHECK.id):
            self._recheck = True
        else:
            self._changed = True
        self._step(f"Courriel du référent corrigé : {correction.reason}", by=correction.agent.name)
        return self._ack("correct_referent_email")

    @correct_referent_email.validator
    def _validate_referent(self, correction: ReferentCorrection) -> None:
        if self._known():
            return
        if self._dossier is None or self._stage in (Stage.NOTIFICATION, Stage.CLOSED):
            raise ApplicationError(f"cannot correct at stage {self._stage}", type="WrongStage")

    def _check_amendable(self) -> None:
        """Amendments that touch the consultations: only before BESSII's decision, one at a time."""
        if (self._dossier is None or self._stage in (Stage.NOTIFICATION, Stage.CLOSED)
                or self._decision is not None or self._deleted):
            raise ApplicationError(f"cannot amend at stage {self._stage}", type="WrongStage")
        if (self._opening or self._amending) and not self._queued:  # queued: never busy
            raise ApplicationError("consultations are being opened or closed: retry shortly",
                                   type="Busy")

    async def _amend(self, change: Callable[[], Awaitable[None]]) -> None:
        # Counted so that the run closes the consultations only once the change is complete.
        self._amending += 1
        try:
            await change()
        finally:
            self._amending -= 1
        self._stage_deadline = self._cra_deadline()

    @workflow.update(name="correct_regions")
    async def correct_regions(self, correction: RegionCorrection) -> UpdateAck:
        """Corrects the regions (and, if given, the fragile-territory flags), then re-checks.

        Before the consultations open (reception, awaiting a correction), the corrected regions
        are simply the ones consulted later; completeness is checked again (while awaiting a
        correction, the dossier is re-read and re-checked as after an applicant's change).
        Once they are open, the consultations follow the regions, as a BESSII admin would do
        by hand: a region no longer concerned has its consultation closed (``skipped`` if its
        CRA had not answered; an opinion it gave no longer counts: it stays in the history and
        the steps, not in the decision nor its information email); a region added is consulted
        with a full deadline (a new round if it was consulted before: fresh links and emails);
        a region kept keeps its consultation and its answer. BESSII's territory reading at
        admissibility is replaced by corrected flags; eligibility criteria already recorded
        stay, with a step asking to review the territorial anchoring.
        Refused once BESSII has decided (or the dossier was deleted): nothing changes.
        """
        if self._known():
            return self._again()
        assert self._dossier is not None
        by = correction.agent.name
        self._regions = list(correction.regions)
        if correction.territory is not None:
            self._territory = correction.territory
            if self._admissibility is not None and self._admissibility.territory is not None:
                self._admissibility = self._admissibility.model_copy(
                    update={"territory": correction.territory})
        self._dossier = self._corrected(self._dossier)
        self._report = self._check(self._dossier)
        self._recheck = True  # while awaiting a correction, the wait re-reads and re-checks
        names = ", ".join(region_name(r) for r in correction.regions)
        self._step(f"Région(s) corrigée(s) : {names} ({correction.reason})", by=by)
        if self._eligibility is not None:
            self._step("Critères d’éligibilité enregistrés avant la correction : ancrage "
                       "territorial à revoir", by=by)
        if self._rounds:  # the consultations are open: they follow the regions
            if self._queued:  # opened and closed by the queue's worker, in order
                self._enqueue(*self._regions_followed(by))
            else:
                await self._amend(lambda: self._run_now(self._regions_followed(by)))
        self._publish(NEXT_STEP.get(self._stage, ""))
        self._mark()
        return self._ack("correct_regions")

    @correct_regions.validator
    def _validate_regions(self, correction: RegionCorrection) -> None:
        if self._known():
            return
        self._check_amendable()
        assert self._dossier is not None
        territory = correction.territory
        if correction.regions == self._dossier.regions and (
                territory is None or territory == self._dossier.territory):
            raise ApplicationError("nothing to correct", type="NoChange")

    @staticmethod
    async def _run_now(jobs: list[Job]) -> None:
        for job in jobs:
            await job()

    def _regions_followed(self, by: str) -> list[Job]:
        """The state follows the corrected regions at once; returned: the consultations to
        close, then those to open, in this order."""
        assert self._dossier is not None
        wanted = self._dossier.regions
        removed = [r for r in self._consultations if r not in wanted]
        added = {r: self._rounds.get(r, 0) + 1 for r in wanted if r not in self._consultations}
        closing = [self._consultation_id(r) for r in removed if r not in self._finished]
        for region in removed:
            view = self._consultations.pop(region)
            self._members.pop(region, None)
            lost = " ; son avis n’est plus pris en compte" if view.opinion else ""
            self._step(f"Consultation de la CRA {region_name(region)} close : région plus "
                       f"concernée{lost}", by=by)
        for region, round_ in added.items():
            self._reserve(region, round_)
        self._consultations = {r: self._consultations[r] for r in wanted}  # main region first
        return self._moves(closing, added)

    def _moves(self, closing: list[str], opening: dict[str, int]) -> list[Job]:
        return [*(functools.partial(self._signal_close, w) for w in closing),
                *(functools.partial(self._open_if_current, r, n) for r, n in opening.items())]

    @workflow.update(name="send_back")
    async def send_back(self, request: SendBack) -> UpdateAck:
        """Sends the dossier back to an earlier stage, before BESSII's decision.

        ``admissibility`` (from the final instruction): BESSII's admissibility is cleared and
        must be confirmed again; the eligibility criteria and every CRA answer stay. The BESSII
        reminders of this new lap have keys of their own.
        ``consultation`` (from admissibility or instruction): the CRA(s) named (all when none
        is named) are consulted again in a new round ``r<n+1>``: the previous round is closed,
        its opinion is replaced (kept in its own history and in the steps, no longer counted)
        and the current pair receives new links. Committees not named keep their answers. A
        consultation still waiting for its first answer is refused (extend its deadline or
        resend the link instead). The stage stays; at instruction the decision waits for the
        new opinion (or an override reason), as for any open consultation.
        """
        if self._known():
            return self._again()
        by = request.agent.name
        if request.to is BackTo.ADMISSIBILITY:
            self._admissibility = None
            self._passes += 1
            # Wakes the run waiting for the decision (not yet there: it waits for admissibility).
            self._sent_back = self._stage is Stage.INSTRUCTION
            self._step(f"Renvoyé à l’examen de la recevabilité : {request.reason}", by=by)
            self._enter(Stage.ADMISSIBILITY, self._cra_deadline(),
                        NEXT_STEP[Stage.ADMISSIBILITY])
        else:
            jobs = self._reconsult(request.regions or list(self._consultations), request.reason,
                                   by)
            if self._queued:
                self._enqueue(*jobs)
            else:
                await self._amend(lambda: self._run_now(jobs))
            self._publish(NEXT_STEP.get(self._stage, ""))
        return self._ack("send_back")

    @send_back.validator
    def _validate_send_back(self, request: SendBack) -> None:
        if self._known():
            return
        self._check_amendable()
        if self._stage not in (Stage.ADMISSIBILITY, Stage.INSTRUCTION):
            raise ApplicationError(f"cannot send back at stage {self._stage}", type="WrongStage")
        if request.to is BackTo.ADMISSIBILITY and not self._awaiting_decision():
            raise ApplicationError("admissibility is not an earlier stage here",
                                   type="NotBackwards")
        if request.to is BackTo.CONSULTATION:
            regions = request.regions or list(self._consultations)
            if any(r not in self._consultations for r in regions):
                raise ApplicationError("region not consulted on this dossier",
                                       type="NotConsulted")
            if any(self._consultations[r].status is ConsultationStatus.PENDING for r in regions):
                raise ApplicationError("consultation still waiting for its answer",
                                       type="ConsultationOpen")

    def _reconsult(self, regions: list[str], reason: str, by: str) -> list[Job]:
        closing = [self._consultation_id(r) for r in regions if r not in self._finished]
        rounds = {r: self._rounds[r] + 1 for r in regions}
        for region, round_ in rounds.items():
            view = self._consultations[region]
            before = (f"avis {OPINION_LABELS[view.opinion.opinion]}" if view.opinion
                      else f"consultation {view.status.value}")
            self._step(f"CRA {region_name(region)} consultée à nouveau (tour {round_}) : "
                       f"{reason} ; {before} du tour précédent remplacé", by=by)
            self._reserve(region, round_)
        return self._moves(closing, rounds)

