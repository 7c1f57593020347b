"""One dossier of the AMI PTCE, from receipt to notification.

receipt → completeness ("tout dossier incomplet ne sera pas recevable") → BESSII confirms
admissibility while the regional committees are consulted in parallel (child workflows) →
BESSII's decision → notification on the platform and by email.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.platform.activities import PlatformActivities
    from activities.platform.models import PlatformMessage
    from core.domain.procedure import Outcome, Stage
    from core.ids import DOSSIER_CHANGED_SIGNAL, DOSSIER_WORKFLOW
    from core.rules.completeness import check_completeness
    from workflows import options
    from workflows import search_attributes as sa
    from workflows.blocking import ClosedByAdmin
    from workflows.payloads import DecisionRequest, DossierChanged, DossierInput, DossierResult
    from workflows.waiting import wait_with_reminders

# The parts of the dossier workflow build on each other (workflow code: not passed through).
from workflows.dossier.amendments import Amendments
from workflows.dossier.state import NEXT_STEP


@workflow.defn(name=DOSSIER_WORKFLOW)
class DossierWorkflow(Amendments):
    @workflow.init
    def __init__(self, input: DossierInput) -> None:
        super().__init__(input)

    # ----------------------------------------------------------------- the procedure

    @workflow.run
    async def run(self, input: DossierInput) -> DossierResult:
        try:
            return await self._procedure(input)
        except ClosedByAdmin as closed:  # an admin ended the dossier at a blocked step
            return await self._close_by_admin(closed.resolution)

    async def _procedure(self, input: DossierInput) -> DossierResult:
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

        label = "Passage en instruction sur la plateforme"
        await self._guarded("passer_en_instruction", label, lambda: workflow.execute_activity_method(
            PlatformActivities.passer_en_instruction, self._number, **options.external(label)))
        consultations = await self._start_consultations()
        self._enter(Stage.ADMISSIBILITY, self._cra_deadline(), NEXT_STEP[Stage.ADMISSIBILITY])
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
            self._enter(Stage.INSTRUCTION, self._cra_deadline(), NEXT_STEP[Stage.INSTRUCTION])
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
        label = "Demande de correction sur la plateforme"
        message = PlatformMessage(number=self._number, body=body, correction=True)
        await self._guarded("send_message", label, lambda: workflow.execute_activity_method(
            PlatformActivities.send_message, message, **options.external(label)))
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

    @workflow.signal(name=DOSSIER_CHANGED_SIGNAL)
    def dossier_changed(self, change: DossierChanged) -> None:
        # Echoes of our own mutations arrive here too: harmless, only read while awaiting a
        # correction, and the dossier is always re-read from the platform.
        if change.deleted:
            self._deleted = True
        self._changed = True

