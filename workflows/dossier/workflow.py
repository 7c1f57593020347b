"""One dossier of the AMI PTCE, from receipt to notification.

receipt → completeness ("tout dossier incomplet ne sera pas recevable") → BESSII confirms
admissibility while the regional committees are consulted in parallel (child workflows) →
BESSII's decision → notification on the platform and by email.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.platform.activities import PlatformActivities
    from core.domain.procedure import Outcome, Stage
    from core.ids import DOSSIER_CHANGED_SIGNAL, DOSSIER_WORKFLOW
    from workflows import options, patches
    from workflows import search_attributes as sa
    from workflows.blocking import ClosedByAdmin
    from workflows.payloads import DecisionRequest, DossierChanged, DossierInput, DossierResult

# The parts of the dossier workflow build on each other (workflow code: not passed through).
from workflows.dossier.completeness import Completeness
from workflows.dossier.hiding import Withdrawn
from workflows.dossier.state import NEXT_STEP


@workflow.defn(name=DOSSIER_WORKFLOW)
class DossierWorkflow(Completeness):
    @workflow.init
    def __init__(self, input: DossierInput) -> None:
        super().__init__(input)

    # ----------------------------------------------------------------- the procedure

    @workflow.run
    async def run(self, input: DossierInput) -> DossierResult:
        self._start_lean()  # once, first: the lean path or the former commands, for good
        try:
            return await self._procedure(input)
        except ClosedByAdmin as closed:  # an admin ended the dossier at a blocked step
            return await self._close_by_admin(closed.resolution)
        except Withdrawn:  # deleted by its applicant, not restored: purged, or too late
            return await self._withdraw_hidden()

    async def _procedure(self, input: DossierInput) -> DossierResult:
        self._start_queue(worker=False)  # its worker starts once the consultations are open
        workflow.upsert_search_attributes([sa.DOSSIER_NUMBER.value_set(input.number),
                                           sa.DEMARCHE.value_set(input.demarche)])
        if self._lean or workflow.patched(patches.CORRECTION_ROUNDS.id):
            self._changed = False  # before the first read: a change during it is not lost
            dossier = await self._fetch()
        else:
            dossier = await self._fetch()
            self._changed = False
        self._step("Dossier reçu")
        self._publish("vérification de la complétude")
        await self._record()
        # The platform acknowledges the filing itself, at once (one channel: its email).
        if not (self._lean or workflow.patched(patches.ONE_CHANNEL.id)):
            await self._email("acknowledgement", "acknowledgement", dossier.contact_emails,
                              "Accusé de réception")

        if not await self._ensure_complete():
            return await self._finish_without_decision()

        label = "Passage en instruction sur la plateforme"
        await self._on_platform("passer_en_instruction", label, lambda: workflow.execute_activity_method(
            PlatformActivities.passer_en_instruction, self._number, **options.external(label)))
        consultations = await self._start_consultations()
        self._enter(Stage.ADMISSIBILITY, self._cra_deadline(), NEXT_STEP[Stage.ADMISSIBILITY])
        await self._record(reset_point=True)
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
            await self._record(reset_point=True)
            await self._wait_for_bessii(lambda: self._decision is not None or self._sent_back,
                                        "enregistrer la décision", "décision")
            if self._deleted:
                return await self._withdraw(consultations)
            if self._decision is not None:
                break
            self._sent_back = False  # the Update already moved the stage back
            await self._record(reset_point=True)
        await self._close_consultations(consultations)
        return await self._notify()

    # ----------------------------------------------------------------- the end

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
        # correction, and the dossier is always re-read from the platform. A notice of a
        # visible change means the dossier is shown again (restored, if it was hidden).
        if change.deleted:
            self._deleted = True
        elif change.hidden:
            self._hidden = True
        else:
            self._hidden = False
        self._changed = True

