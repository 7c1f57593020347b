"""One dossier of the AMI PTCE, from receipt to notification.

receipt → completeness ("tout dossier incomplet ne sera pas recevable") → BESSII confirms
admissibility while the regional committees are consulted in parallel (child workflows) →
BESSII's decision → notification on the platform and by email.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.mail.activities import MailActivities
    from activities.mail.models import EmailRequest
    from activities.platform.activities import PlatformActivities
    from activities.platform.models import PlatformAnnotations, PlatformDecision, PlatformMessage
    from activities.store import RecordUpdate, StoreActivities
    from core.domain.admin import (
        BackTo,
        DeadlineNotice,
        ReferentCorrection,
        RegionCorrection,
        SendBack,
        Withdrawal,
    )
    from core.domain.cra import ConsultationView, CraContact
    from core.domain.dossier import Dossier, TerritoryFlags
    from core.domain.procedure import (
        OPINION_LABELS,
        STAGE_LABELS,
        ConsultationStatus,
        Outcome,
        Stage,
    )
    from core.domain.regions import region_name
    from core.ids import DOSSIER_CHANGED_SIGNAL, DOSSIER_WORKFLOW, consultation_workflow_id
    from core.rules.completeness import CompletenessReport, check_completeness
    from workflows import details, options, tracing
    from workflows import search_attributes as sa
    from workflows.consultation import (
        DEADLINE_SIGNAL,
        MEMBERS_SIGNAL,
        OPINION_SIGNAL,
        CraConsultationWorkflow,
    )
    from workflows.payloads import (
        AdmissibilityDecision,
        ConsultationInput,
        ConsultationResult,
        DecisionRequest,
        DossierChanged,
        DossierInput,
        DossierResult,
        DossierStatus,
        EligibilityRecord,
        MembersNotice,
        OpinionNotice,
        Step,
    )
    from workflows.waiting import wait_with_reminders

_BESSII_REMINDERS = 26  # then the wait goes on without timers
RECHECK_PATCH = "admin-recheck-v1"
_NEXT_STEP = {Stage.RECEIVED: "vérification de la complétude",
              Stage.AWAITING_CORRECTION: "correction par le porteur de projet",
              Stage.ADMISSIBILITY: "confirmation de la recevabilité par le BESSII",
              Stage.INSTRUCTION: "décision du BESSII"}


@workflow.defn(name=DOSSIER_WORKFLOW)
class DossierWorkflow:
    @workflow.init
    def __init__(self, input: DossierInput) -> None:
        self._input = input
        self._policy = input.policy
        self._stage = Stage.RECEIVED
        self._stage_deadline: datetime | None = None
        self._dossier: Dossier | None = None
        self._report: CompletenessReport | None = None
        self._changed = False
        self._deleted = False
        self._admissibility: AdmissibilityDecision | None = None
        self._eligibility: EligibilityRecord | None = None
        self._decision: DecisionRequest | None = None
        self._decision_trace: tracing.Carrier | None = None  # tracing only, never a command
        self._consultations: dict[str, ConsultationView] = {}
        self._members: dict[str, list[CraContact]] = {}
        self._finished: set[str] = set()  # regions whose consultation workflow has ended
        self._steps: list[Step] = []
        self._referent_email: str | None = None  # an admin's correction, kept over re-reads
        self._regions: list[str] | None = None  # idem
        self._territory: TerritoryFlags | None = None  # idem
        self._rounds: dict[str, int] = {}  # region -> round of its current consultation
        self._tasks: list[asyncio.Task[None]] = []  # one per consultation opened, any round
        self._opening = False  # the run is opening the consultations
        self._amending = 0  # admin Updates opening or closing consultations right now
        self._sent_back = False  # an admin sent the dossier back to admissibility
        self._passes = 0  # times sent back to admissibility (keys of BESSII's reminders)
        self._recheck = False  # an admin corrected the dossier: re-read and re-check it

    # ----------------------------------------------------------------- helpers

    @property
    def _number(self) -> int:
        return self._input.number

    def _key(self, purpose: str) -> str:
        return f"{workflow.info().workflow_id}:{purpose}"

    def _context(self) -> dict[str, object]:
        d = self._dossier
        return {"number": self._number, "project": d.project_name if d else None,
                "structure": d.structure.name if d else None}

    def _step(self, what: str, by: str | None = None) -> None:
        self._steps.append(Step(at=workflow.now(), what=what, by=by))

    def _pending_regions(self) -> list[str]:
        return [r for r, c in self._consultations.items() if c.status is ConsultationStatus.PENDING]

    def _publish(self, next_step: str) -> None:
        """Search attributes and current details: what the Temporal UI shows of this dossier."""
        updates: list[SearchAttributeUpdate[Any]] = [
            sa.STAGE.value_set(self._stage.value),
            sa.CRA_PENDING.value_set(self._pending_regions()),
            sa.STAGE_DEADLINE.value_set(self._stage_deadline) if self._stage_deadline
            else sa.STAGE_DEADLINE.value_unset(),
        ]
        if self._dossier is not None:
            updates += [sa.REGIONS.value_set(self._dossier.regions),
                        sa.FRAGILE_TERRITORY.value_set(self._territory_flags().any)]
        if self._decision is not None:
            updates.append(sa.DECISION.value_set(self._decision.outcome.value))
        workflow.upsert_search_attributes(updates)
        workflow.set_current_details(details.current_details(
            self._stage, self._stage_deadline, list(self._consultations.values()), next_step))

    def _enter(self, stage: Stage, deadline: datetime | None, next_step: str) -> None:
        self._stage, self._stage_deadline = stage, deadline
        self._step(f"Étape : {STAGE_LABELS[stage]}")
        self._publish(next_step)

    def _territory_flags(self) -> TerritoryFlags:
        if self._admissibility is not None and self._admissibility.territory is not None:
            return self._admissibility.territory
        assert self._dossier is not None
        return self._dossier.territory

    async def _email(self, purpose: str, template: str, to: list[str], summary: str,
                     extra: Mapping[str, object] | None = None, to_bessii: bool = False) -> None:
        if not to and not to_bessii:
            return
        await workflow.execute_activity_method(
            MailActivities.send_email,
            EmailRequest(key=self._key(purpose), template=template, to=to, to_bessii=to_bessii,
                         dossier_number=self._number, context={**self._context(), **(extra or {})}),
            **options.external(summary),
        )

    async def _record(self, **values: object) -> None:
        await workflow.execute_activity_method(
            StoreActivities.save_record,
            RecordUpdate(number=self._number, demarche=self._input.demarche,
                         stage=self._stage.value, **values),
            **options.local("Enregistrement du dossier"),
        )

    async def _fetch(self) -> Dossier:
        dossier: Dossier = await workflow.execute_activity_method(
            PlatformActivities.fetch_dossier, self._number,
            **options.external("Lecture du dossier sur la plateforme"))
        await workflow.execute_activity_method(
            StoreActivities.save_snapshot, dossier, **options.local("Instantané du dossier"))
        self._dossier = self._corrected(dossier)
        return self._dossier

    def _corrected(self, dossier: Dossier) -> Dossier:
        # Pure state (no command): executions without a correction behave exactly as before.
        update: dict[str, object] = {}
        if self._referent_email is not None:
            update["referent"] = dossier.referent.model_copy(
                update={"email": self._referent_email})
        if self._regions is not None:
            update["regions"] = list(self._regions)
        if self._territory is not None:
            update["territory"] = self._territory
        return dossier.model_copy(update=update) if update else dossier

    def _consultation_id(self, region: str) -> str:
        return consultation_workflow_id(self._number, region, self._rounds.get(region, 1))

    def _cra_deadline(self) -> datetime | None:
        return max((c.deadline for c in self._consultations.values() if c.deadline),
                   default=None)

    # ----------------------------------------------------------------- the procedure

    @workflow.run
    async def run(self, input: DossierInput) -> DossierResult:
        workflow.upsert_search_attributes([sa.DOSSIER_NUMBER.value_set(input.number),
                                           sa.DEMARCHE.value_set(input.demarche)])
        dossier = await self._fetch()
        self._changed = False
        self._step("Dossier reçu")
        self._publish("vérification de la complétude")
        await self._record()
        await self._email("acknowledgement", "acknowledgement", dossier.contact_emails,
                          "Accusé de réception")

        if not await self._ensure_complete():
            return await self._finish_without_decision()

        await workflow.execute_activity_method(
            PlatformActivities.passer_en_instruction, self._number,
            **options.external("Passage en instruction sur la plateforme"))
        consultations = await self._start_consultations()
        self._enter(Stage.ADMISSIBILITY, self._cra_deadline(), _NEXT_STEP[Stage.ADMISSIBILITY])
        await self._record()
        # One lap per admissibility examination; without a send-back (every history recorded
        # before it existed) the loop runs once and issues exactly the former commands.
        while True:
            await self._wait_for_bessii(lambda: self._admissibility is not None,
                                        "confirmer la recevabilité", "recevabilité")
            if self._deleted:
                return await self._withdraw(consultations)
            assert self._admissibility is not None
            if not self._admissibility.admissible:
                self._decision = DecisionRequest(agent=self._admissibility.agent,
                                                 outcome=Outcome.SANS_SUITE,
                                                 motivation=self._admissibility.reason)
                break
            self._enter(Stage.INSTRUCTION, self._cra_deadline(), _NEXT_STEP[Stage.INSTRUCTION])
            await self._record()
            await self._wait_for_bessii(lambda: self._decision is not None or self._sent_back,
                                        "enregistrer la décision", "décision")
            if self._deleted:
                return await self._withdraw(consultations)
            if self._decision is not None:
                break
            self._sent_back = False  # the Update already moved the stage back
            await self._record()
        await self._close_consultations(consultations)
        return await self._notify()

    # ----------------------------------------------------------------- completeness

    async def _ensure_complete(self) -> bool:
        assert self._dossier is not None
        self._report = check_completeness(self._dossier, self._policy.budgets)
        if self._report.complete:
            self._step("Dossier complet")
            return True
        start = workflow.now()
        deadline = start + self._policy.correction_deadline
        self._enter(Stage.AWAITING_CORRECTION, deadline, "correction par le porteur de projet")
        await self._record(details={"missing": [i.field for i in self._report.issues]})
        requests = 0
        while not self._report.complete:
            requests += 1
            await self._request_correction(requests, deadline)
            self._changed = False
            corrected = await wait_with_reminders(
                lambda: self._changed or self._deleted or self._recheck,
                deadline,
                [start + r for r in self._policy.correction_reminders],
                lambda n: self._email(
                    f"correction-reminder-{n}", "correction_reminder",
                    self._dossier.contact_emails if self._dossier else [],
                    "Relance du porteur de projet",
                    {"missing": self._report.summary() if self._report else "",
                     "deadline": deadline}),
                summary="Échéance de complétude",
                reminder_summary="Relance complétude",
            )
            if not corrected or self._deleted:
                return False
            dossier = await self._fetch()
            self._changed = self._recheck = False
            self._report = check_completeness(dossier, self._policy.budgets)
            self._step("Dossier modifié par le porteur de projet")
        self._step("Dossier complété")
        return True

    async def _request_correction(self, n: int, deadline: datetime) -> None:
        assert self._dossier is not None and self._report is not None
        missing = self._report.summary()
        body = (f"Votre dossier est incomplet. Merci de le compléter avant le "
                f"{deadline:%d/%m/%Y} :\n{missing}")
        await workflow.execute_activity_method(
            PlatformActivities.send_message,
            PlatformMessage(number=self._number, body=body, correction=True),
            **options.external("Demande de correction sur la plateforme"))
        await self._email(f"correction-request-{n}", "correction_request",
                          self._dossier.contact_emails, "Demande de correction (courriel)",
                          {"missing": missing, "deadline": deadline})
        self._step("Demande de correction envoyée")

    async def _finish_without_decision(self) -> DossierResult:
        if self._deleted:
            return await self._withdraw([])
        assert self._report is not None
        motivation = ("Dossier incomplet à l’échéance de la demande de correction. "
                      "Éléments manquants ou non conformes :\n" + self._report.summary())
        self._decision = DecisionRequest.model_validate({
            "agent": {"id": "service", "name": "Service des dossiers AMI PTCE"},
            "outcome": Outcome.SANS_SUITE, "motivation": motivation})
        return await self._notify()

    # ----------------------------------------------------------------- CRA consultation

    async def _start_consultations(self) -> list[asyncio.Task[None]]:
        """Opens one consultation per region; the list grows when an admin opens another."""
        assert self._dossier is not None
        self._opening = True  # region corrections wait for the end of the loop below
        for region in self._dossier.regions:
            await self._open_consultation(region, 1)
        self._opening = False
        return self._tasks

    async def _open_consultation(self, region: str, round_: int) -> None:
        assert self._dossier is not None
        members = await workflow.execute_activity_method(
            StoreActivities.cra_pair, region,
            **options.local(f"Binôme CRA {region_name(region)}"))
        self._members[region] = members
        start = workflow.now()
        deadline = start + self._policy.cra_deadline
        again = f" (tour {round_})" if round_ > 1 else ""
        handle = await workflow.start_child_workflow(
            CraConsultationWorkflow.run,
            ConsultationInput(
                number=self._number, demarche=self._input.demarche, region=region,
                round=round_, members=members, deadline=deadline,
                reminders=[start + o for o in self._policy.cra_reminder_offsets()],
                project=self._dossier.project_name, structure=self._dossier.structure.name),
            # A new round, a new id: its emails get keys of their own (sent, not deduplicated).
            id=consultation_workflow_id(self._number, region, round_),
            static_summary=f"Consultation CRA {region_name(region)}{again} · "
                           f"dossier n° {self._number}",
        )
        self._rounds[region] = round_
        self._consultations[region] = ConsultationView(region=region, deadline=deadline)
        self._step(f"Consultation de la CRA {region_name(region)} ouverte{again}")
        self._tasks.append(asyncio.create_task(self._follow(region, round_, handle)))

    async def _follow(self, region: str, round_: int, handle: workflow.ChildWorkflowHandle[
            CraConsultationWorkflow, ConsultationResult]) -> None:
        result = await handle
        if self._rounds.get(region) != round_ or region not in self._consultations:
            return  # superseded by a new round, or the region is no longer concerned
        self._finished.add(region)
        view = self._consultations[region]
        view.status, view.opinion = result.status, result.opinion or view.opinion
        view.reminders_sent = result.reminders_sent
        self._step(f"Consultation de la CRA {region_name(region)} terminée ({result.status})")
        self._publish("décision du BESSII" if self._stage is Stage.INSTRUCTION
                      else "confirmation de la recevabilité par le BESSII")

    async def _close_consultations(self, tasks: list[asyncio.Task[None]]) -> None:
        if self._amending:  # an admin Update is opening or closing a consultation: let it end
            await workflow.wait_condition(lambda: not self._amending)
        for region in list(self._consultations):
            if region not in self._finished:
                await self._signal_close(self._consultation_id(region))
        await asyncio.gather(*tasks)

    async def _signal_close(self, workflow_id: str) -> None:
        handle = workflow.get_external_workflow_handle(workflow_id)
        # It may have ended meanwhile (deadline reached): its result arrives by its handle.
        with contextlib.suppress(ApplicationError):
            await handle.signal(CraConsultationWorkflow.close)

    @workflow.signal(name=OPINION_SIGNAL)
    def _on_opinion(self, notice: OpinionNotice) -> None:
        view = self._consultations.get(notice.region)
        if view is None or notice.round != self._rounds.get(notice.region, 1):
            return  # a region no longer concerned, or a round an admin replaced
        view.opinion, view.status = notice.opinion, ConsultationStatus.ANSWERED
        label = OPINION_LABELS[notice.opinion.opinion]
        self._step(f"Avis de la CRA {region_name(notice.region)} : {label}",
                   by=notice.opinion.amended_by[-1] if notice.opinion.amended_by
                   else notice.opinion.written_by)
        self._publish("décision du BESSII" if self._stage is Stage.INSTRUCTION
                      else "confirmation de la recevabilité par le BESSII")

    # ----------------------------------------------------------------- BESSII

    async def _wait_for_bessii(self, done, task: str, short: str) -> None:  # type: ignore[no-untyped-def]
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

    @workflow.update(name="confirm_admissibility")
    async def confirm_admissibility(self, decision: AdmissibilityDecision) -> DossierStatus:
        self._admissibility = decision
        verdict = "recevable" if decision.admissible else "non recevable"
        self._step(f"Recevabilité : {verdict}", by=decision.agent.name)
        return self.status()

    @confirm_admissibility.validator
    def _validate_admissibility(self, decision: AdmissibilityDecision) -> None:
        if self._stage is not Stage.ADMISSIBILITY or self._admissibility is not None:
            raise ApplicationError(f"admissibility cannot be recorded at stage {self._stage}",
                                   type="WrongStage")

    @workflow.update(name="record_eligibility")
    async def record_eligibility(self, record: EligibilityRecord) -> DossierStatus:
        self._eligibility = record
        majority = "majorité atteinte" if record.assessment.majority else "majorité non atteinte"
        self._step(f"Critères d’éligibilité enregistrés ({majority})", by=record.agent.name)
        return self.status()

    @record_eligibility.validator
    def _validate_eligibility(self, record: EligibilityRecord) -> None:
        if self._stage not in (Stage.ADMISSIBILITY, Stage.INSTRUCTION):
            raise ApplicationError(f"eligibility cannot be recorded at stage {self._stage}",
                                   type="WrongStage")

    @workflow.update(name="record_decision")
    async def record_decision(self, decision: DecisionRequest) -> DossierStatus:
        self._decision = decision
        self._decision_trace = tracing.current()  # the notification joins the agent's trace
        self._step(f"Décision : {decision.outcome}", by=decision.agent.name)
        if decision.override_reason:
            self._step(f"Décision avant la fin de la consultation : {decision.override_reason}",
                       by=decision.agent.name)
        return self.status()

    @record_decision.validator
    def _validate_decision(self, decision: DecisionRequest) -> None:
        if self._stage is not Stage.INSTRUCTION or self._decision is not None:
            raise ApplicationError(f"a decision cannot be recorded at stage {self._stage}",
                                   type="WrongStage")
        pending = self._pending_regions()
        if pending and not (decision.override_reason and decision.override_reason.strip()):
            names = ", ".join(region_name(r) for r in pending)
            raise ApplicationError(f"CRA consultation still open: {names}",
                                   type="ConsultationOpen")

    # ----------------------------------------------------------------- admin amendments
    # New handlers only: they add nothing to the command sequence of old histories.

    @workflow.update(name="withdraw")
    def withdraw(self, request: Withdrawal) -> DossierStatus:
        """The applicant asked to withdraw: the normal end *sans suite* (platform, applicant and
        CRA emails), with the applicant's request as motivation."""
        motivation = f"Retrait à la demande du porteur de projet : {request.reason}"
        if self._admissibility is None:
            self._admissibility = AdmissibilityDecision(agent=request.agent, admissible=False,
                                                        reason=motivation)
        else:
            self._decision = DecisionRequest(agent=request.agent, outcome=Outcome.SANS_SUITE,
                                             motivation=motivation)
        self._step("Retrait du dossier à la demande du porteur de projet", by=request.agent.name)
        return self.status()

    @withdraw.validator
    def _validate_withdraw(self, request: Withdrawal) -> None:
        waiting = (self._stage is Stage.ADMISSIBILITY and self._admissibility is None) or (
            self._stage is Stage.INSTRUCTION and self._decision is None)
        if not waiting:
            raise ApplicationError(f"cannot withdraw at stage {self._stage}", type="WrongStage")

    @workflow.update(name="correct_referent_email")
    def correct_referent_email(self, correction: ReferentCorrection) -> DossierStatus:
        assert self._dossier is not None
        self._referent_email = correction.referent_email
        self._dossier = self._corrected(self._dossier)
        self._report = check_completeness(self._dossier, self._policy.budgets)
        # While awaiting a correction, the wait re-reads the dossier and re-checks it. The flag
        # also survives a correction arriving before the wait; executions corrected before it
        # existed replay with the old one (it could be lost, never re-read twice).
        if workflow.patched(RECHECK_PATCH):
            self._recheck = True
        else:
            self._changed = True
        self._step(f"Courriel du référent corrigé : {correction.reason}", by=correction.agent.name)
        return self.status()

    @correct_referent_email.validator
    def _validate_referent(self, correction: ReferentCorrection) -> None:
        if self._dossier is None or self._stage in (Stage.NOTIFICATION, Stage.CLOSED):
            raise ApplicationError(f"cannot correct at stage {self._stage}", type="WrongStage")

    def _check_amendable(self) -> None:
        """Amendments that touch the consultations: only before BESSII's decision, one at a time."""
        if (self._dossier is None or self._stage in (Stage.NOTIFICATION, Stage.CLOSED)
                or self._decision is not None or self._deleted):
            raise ApplicationError(f"cannot amend at stage {self._stage}", type="WrongStage")
        if self._opening or self._amending:
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

    def _reserve(self, region: str, round_: int) -> None:
        """A consultation about to open: pending at once (a decision now needs an override)."""
        self._rounds[region] = round_
        self._finished.discard(region)
        self._consultations[region] = ConsultationView(region=region)

    @workflow.update(name="correct_regions")
    async def correct_regions(self, correction: RegionCorrection) -> DossierStatus:
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
        assert self._dossier is not None
        by = correction.agent.name
        self._regions = list(correction.regions)
        if correction.territory is not None:
            self._territory = correction.territory
            if self._admissibility is not None and self._admissibility.territory is not None:
                self._admissibility = self._admissibility.model_copy(
                    update={"territory": correction.territory})
        self._dossier = self._corrected(self._dossier)
        self._report = check_completeness(self._dossier, self._policy.budgets)
        self._recheck = True  # while awaiting a correction, the wait re-reads and re-checks
        names = ", ".join(region_name(r) for r in correction.regions)
        self._step(f"Région(s) corrigée(s) : {names} ({correction.reason})", by=by)
        if self._eligibility is not None:
            self._step("Critères d’éligibilité enregistrés avant la correction : ancrage "
                       "territorial à revoir", by=by)
        if self._rounds:  # the consultations are open: they follow the regions
            await self._amend(lambda: self._follow_regions(by))
        self._publish(_NEXT_STEP.get(self._stage, ""))
        return self.status()

    @correct_regions.validator
    def _validate_regions(self, correction: RegionCorrection) -> None:
        self._check_amendable()
        assert self._dossier is not None
        territory = correction.territory
        if correction.regions == self._dossier.regions and (
                territory is None or territory == self._dossier.territory):
            raise ApplicationError("nothing to correct", type="NoChange")

    async def _follow_regions(self, by: str) -> None:
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
        for workflow_id in closing:
            await self._signal_close(workflow_id)
        for region, round_ in added.items():
            await self._open_consultation(region, round_)

    @workflow.update(name="send_back")
    async def send_back(self, request: SendBack) -> DossierStatus:
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
        by = request.agent.name
        if request.to is BackTo.ADMISSIBILITY:
            self._admissibility = None
            self._passes += 1
            self._sent_back = True  # wakes the run, waiting for the decision
            self._step(f"Renvoyé à l’examen de la recevabilité : {request.reason}", by=by)
            self._enter(Stage.ADMISSIBILITY, self._cra_deadline(),
                        _NEXT_STEP[Stage.ADMISSIBILITY])
        else:
            await self._amend(lambda: self._reconsult(request.regions or list(self._consultations),
                                                      request.reason, by))
            self._publish(_NEXT_STEP.get(self._stage, ""))
        return self.status()

    @send_back.validator
    def _validate_send_back(self, request: SendBack) -> None:
        self._check_amendable()
        if self._stage not in (Stage.ADMISSIBILITY, Stage.INSTRUCTION):
            raise ApplicationError(f"cannot send back at stage {self._stage}", type="WrongStage")
        if request.to is BackTo.ADMISSIBILITY and self._stage is not Stage.INSTRUCTION:
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

    async def _reconsult(self, regions: list[str], reason: str, by: str) -> None:
        closing = [self._consultation_id(r) for r in regions if r not in self._finished]
        rounds = {r: self._rounds[r] + 1 for r in regions}
        for region, round_ in rounds.items():
            view = self._consultations[region]
            before = (f"avis {OPINION_LABELS[view.opinion.opinion]}" if view.opinion
                      else f"consultation {view.status.value}")
            self._step(f"CRA {region_name(region)} consultée à nouveau (tour {round_}) : "
                       f"{reason} ; {before} du tour précédent remplacé", by=by)
            self._reserve(region, round_)
        for workflow_id in closing:
            await self._signal_close(workflow_id)
        for region, round_ in rounds.items():
            await self._open_consultation(region, round_)

    @workflow.query(name="consultation_ids")
    def consultation_ids(self) -> dict[str, str]:
        """The current round's workflow id of each region consulted (what admin tools amend)."""
        return {region: self._consultation_id(region) for region in self._consultations}

    @workflow.signal(name=DEADLINE_SIGNAL)
    def _on_deadline(self, notice: DeadlineNotice) -> None:
        """An admin moved a consultation's deadline: the dossier shows and lists the new one."""
        view = self._consultations.get(notice.region)
        if view is None or notice.round != self._rounds.get(notice.region, 1):
            return
        view.deadline = notice.deadline
        if self._stage in (Stage.ADMISSIBILITY, Stage.INSTRUCTION):
            self._stage_deadline = self._cra_deadline()
            self._publish(_NEXT_STEP[self._stage])

    @workflow.signal(name=MEMBERS_SIGNAL)
    def _on_members(self, notice: MembersNotice) -> None:
        if notice.region in self._members:
            self._members[notice.region] = notice.members

    @workflow.signal(name=DOSSIER_CHANGED_SIGNAL)
    def dossier_changed(self, change: DossierChanged) -> None:
        # Echoes of our own mutations arrive here too: harmless, only read while awaiting a
        # correction, and the dossier is always re-read from the platform.
        if change.deleted:
            self._deleted = True
        self._changed = True

    @workflow.query(name="status")
    def status(self) -> DossierStatus:
        eligibility_majority = self._eligibility.assessment.majority if self._eligibility else None
        return DossierStatus(
            number=self._number, stage=self._stage, stage_deadline=self._stage_deadline,
            dossier=self._dossier, completeness=self._report, admissibility=self._admissibility,
            eligibility=self._eligibility, eligibility_majority=eligibility_majority,
            territory=self._territory_flags() if self._dossier else None,
            consultations=list(self._consultations.values()), decision=self._decision,
            steps=list(self._steps),
        )

    # ----------------------------------------------------------------- the end

    def _opinions_summary(self) -> str:
        parts = []
        for region, view in self._consultations.items():
            label = OPINION_LABELS[view.opinion.opinion] if view.opinion else view.status.value
            parts.append(f"{region_name(region)} : {label}")
        return "; ".join(parts) or "aucune CRA consultée"

    async def _notify(self) -> DossierResult:
        decision = self._decision
        assert decision is not None and self._dossier is not None
        self._enter(Stage.NOTIFICATION, None, "notification de la décision")
        with tracing.continuing(self._decision_trace):
            return await self._notify_decision(decision)

    async def _notify_decision(self, decision: DecisionRequest) -> DossierResult:
        assert self._dossier is not None
        await workflow.execute_activity_method(
            PlatformActivities.annotate,
            PlatformAnnotations(number=self._number, opinions=self._opinions_summary(),
                                stage=STAGE_LABELS[Stage.CLOSED]),
            **options.external("Annotations privées sur la plateforme"))
        await workflow.execute_activity_method(
            PlatformActivities.decide,
            PlatformDecision(number=self._number, outcome=decision.outcome,
                             motivation=decision.motivation),
            **options.external(f"Décision sur la plateforme : {decision.outcome}"))
        extra = {"outcome": decision.outcome.value, "motivation": decision.motivation}
        await self._email("decision-applicant", "decision_applicant",
                          self._dossier.contact_emails, "Courriel de décision au porteur", extra)
        consulted = [m.email for region in self._consultations for m in self._members[region]]
        await self._email("decision-cra", "decision_cra_info", consulted,
                          "Information des CRA consultées", extra)
        self._stage = Stage.CLOSED
        self._step("Décision notifiée")
        self._publish("aucune : dossier clos")
        await self._record(outcome=decision.outcome.value, motivation=decision.motivation,
                           decided_by=decision.agent.id, decided_at=workflow.now(),
                           details={"opinions": self._opinions_summary()})
        await workflow.wait_condition(workflow.all_handlers_finished)
        return DossierResult(number=self._number, outcome=decision.outcome,
                             motivation=decision.motivation, decided_by=decision.agent.id,
                             consultations=list(self._consultations.values()))

    async def _withdraw(self, tasks: list[asyncio.Task[None]]) -> DossierResult:
        """The dossier was deleted on the platform: stop, tell nobody, keep the record."""
        await self._close_consultations(tasks)
        self._stage = Stage.CLOSED
        self._step("Dossier supprimé sur la plateforme par le porteur de projet")
        self._publish("aucune : dossier retiré")
        await self._record(details={"withdrawn": True})
        await workflow.wait_condition(workflow.all_handlers_finished)
        return DossierResult(number=self._number, outcome=None,
                             motivation="Dossier retiré par le porteur de projet",
                             consultations=list(self._consultations.values()))

