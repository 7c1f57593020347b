"""The end of a dossier: the decision written on the platform and sent by email, or the
applicant's deletion on the platform.
"""

from __future__ import annotations

import asyncio
import contextlib

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.platform.activities import PlatformActivities
    from activities.platform.models import PlatformAnnotations, PlatformDecision
    from core.domain.admin import BlockResolution
    from core.domain.procedure import OPINION_LABELS, STAGE_LABELS, Stage
    from core.domain.regions import region_name
    from workflows import options, tracing
    from workflows import search_attributes as sa
    from workflows.blocking import ClosedByAdmin
    from workflows.payloads import DecisionRequest, DossierResult

# The parts of the dossier workflow build on each other (workflow code: not passed through).
from workflows.dossier.hiding import Hiding


class Notification(Hiding):
    """One channel per piece of news to the applicant: the decision is our email (the
    platform's is disabled, ``PlatformActivities.decide``); the acknowledgement, the passage en
    instruction and the correction request are the platform's own emails."""

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
        annotations = PlatformAnnotations(number=self._number, opinions=self._opinions_summary(),
                                          stage=STAGE_LABELS[Stage.CLOSED])
        label = "Annotations privées sur la plateforme"
        await self._on_platform("annotate", label, lambda: workflow.execute_activity_method(
            PlatformActivities.annotate, annotations, **options.external(label)))
        platform_decision = PlatformDecision(number=self._number, outcome=decision.outcome,
                                             motivation=decision.motivation)
        label = f"Décision sur la plateforme : {decision.outcome}"
        if await self._on_platform("decide", label, lambda: workflow.execute_activity_method(
                PlatformActivities.decide, platform_decision, **options.external(label))) is None:
            self._step("Décision à enregistrer à la main sur la plateforme (étape passée par un "
                       "administrateur)")
        extra = {"outcome": decision.outcome.value, "motivation": decision.motivation}
        consulted = [m.email for region in self._consultations for m in self._members[region]]
        applicant = self._email("decision-applicant", "decision_applicant",
                                self._dossier.contact_emails, "Courriel de décision au porteur",
                                extra)
        cra = self._email("decision-cra", "decision_cra_info", consulted,
                          "Information des CRA consultées", extra)
        if self._lean:  # two independent emails: scheduled in one workflow task
            await asyncio.gather(applicant, cra)
        else:  # coroutines: nothing runs before it is awaited, in the former order
            await applicant
            await cra
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

    async def _withdraw_hidden(self) -> DossierResult:
        """Withdrawn while hidden (purged, or not restored in time): no decision is shown, even
        one the deadline had begun to notify."""
        if self._decision is not None:
            self._decision = None
            workflow.upsert_search_attributes([sa.DECISION.value_unset()])
        return await self._withdraw(self._tasks)

    async def _close_by_admin(self, resolution: BlockResolution) -> DossierResult:
        """An admin closed the dossier at a blocked step: it ends here, nothing more is sent."""
        if not self._working:  # consultations still queued to open (new executions): not opened
            self._work.clear()
        await self._close_consultations(self._tasks)
        self._stage = Stage.CLOSED
        self._step(f"Dossier clos par un administrateur : {resolution.reason}",
                   by=resolution.agent.name)
        self._publish("aucune : dossier clos par un administrateur")
        with contextlib.suppress(ClosedByAdmin):  # closing twice is closing
            await self._record(details={"closed_by_admin": resolution.reason})
        await workflow.wait_condition(workflow.all_handlers_finished)
        return DossierResult(number=self._number, outcome=None, motivation=resolution.reason,
                             decided_by=resolution.agent.id,
                             consultations=list(self._consultations.values()))
