"""The dossier workflow's state and the helpers every part uses: what the Temporal UI shows
(search attributes, current details), the steps, the emails, the record, the re-read.

No handler here but the ``status`` query: the other parts (consultations, notification, BESSII,
admin amendments) build on this class one after another, the procedure (``run``) last.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from activities.mail.activities import MailActivities
    from activities.mail.models import EmailRequest
    from activities.platform.activities import PlatformActivities
    from activities.store import RecordUpdate, StoreActivities
    from core.domain.cra import ConsultationView, CraContact
    from core.domain.dossier import Dossier, TerritoryFlags
    from core.domain.procedure import STAGE_LABELS, ConsultationStatus, Stage
    from core.ids import consultation_workflow_id
    from core.rules.completeness import CompletenessReport, check_completeness
    from workflows import details, options, patches, tracing
    from workflows import search_attributes as sa
    from workflows.blocking import Blocking
    from workflows.lean import Lean
    from workflows.payloads import (
        AdmissibilityDecision,
        DecisionRequest,
        DossierInput,
        DossierStatus,
        EligibilityRecord,
        Step,
        UpdateAck,
    )

T = TypeVar("T")
NEXT_STEP = {Stage.RECEIVED: "vérification de la complétude",
             Stage.AWAITING_CORRECTION: "correction par le porteur de projet",
             Stage.ADMISSIBILITY: "confirmation de la recevabilité par le BESSII",
             Stage.INSTRUCTION: "décision du BESSII"}



class DossierState(Lean, Blocking):
    def __init__(self, input: DossierInput) -> None:
        self._init_blocking()
        self._next_step = ""  # what the current details say comes next
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
        self._next_step = next_step
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
        self._upsert([*updates, *self._block_attributes()])  # lean: only what changed
        workflow.set_current_details("\n\n".join([*self._block_lines(), details.current_details(
            self._stage, self._stage_deadline, list(self._consultations.values()), next_step,
            self._members)]))

    def _republish(self) -> None:
        self._publish(self._next_step)

    def _alert_context(self) -> dict[str, Any]:
        return {"number": self._number}

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
        request = EmailRequest(key=self._key(purpose), template=template, to=to,
                               to_bessii=to_bessii, dossier_number=self._number,
                               context={**self._context(), **(extra or {})})
        await self._guarded(f"email:{template}", summary, lambda: workflow.execute_activity_method(
            MailActivities.send_email, request, **options.external(summary)))

    async def _record(self, *, reset_point: bool = False, **values: object) -> None:
        """``reset_point``: the record of a stage the dossier then waits in (admissibility,
        instruction): a scheduled activity even on the lean path, so that the task completed
        after it is the stage's reset point at once (``api.admin.reset``)."""
        update = RecordUpdate(number=self._number, demarche=self._input.demarche,
                              stage=self._stage.value, **values)
        await self._guarded("save_record", "Enregistrement du dossier", lambda: self._store(
            StoreActivities.save_record, update, "Enregistrement du dossier", reset_point))

    async def _on_platform(self, step: str, label: str, start: Callable[[], Awaitable[T]], *,
                           skippable: bool = True) -> T | None:
        """A platform step: ``_guarded``, and a dossier the platform no longer shows handled by
        the ``Hiding`` part."""
        return await self._guarded(step, label, start, skippable=skippable)

    async def _fetch(self) -> Dossier:
        """Re-reads the dossier; skipping a blocked re-read keeps the copy already held."""
        label = "Lecture du dossier sur la plateforme"
        dossier: Dossier | None = await self._on_platform(
            "fetch_dossier", label, lambda: workflow.execute_activity_method(
                PlatformActivities.fetch_dossier, self._number, **options.external(label)),
            skippable=self._dossier is not None)
        if dossier is None:
            assert self._dossier is not None
            return self._dossier
        # Lean: a local activity in the workflow task that got the re-read (one marker).
        await self._guarded("save_snapshot", "Instantané du dossier", lambda: self._store(
            StoreActivities.save_snapshot, dossier, "Instantané du dossier"))
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

    def _check(self, dossier: Dossier) -> CompletenessReport:
        """Annexe 1's rules. The referent-email rule counts from the first check after the
        release: executions that checked before replay without it (``patches``)."""
        return check_completeness(dossier, self._policy.budgets,
                                  referent_email=self._lean
                                  or workflow.patched(patches.REFERENT_EMAIL.id))

    def _ack(self, update: str) -> UpdateAck:
        """An Update's small result, remembered under its id (a retry gets it, not applied)."""
        return self._done(UpdateAck(update=update, stage=self._stage))

    def _again(self) -> UpdateAck:
        answered: UpdateAck = self._answered()
        return answered.model_copy(update={"applied": False, "stage": self._stage})

    def _consultation_id(self, region: str) -> str:
        return consultation_workflow_id(self._number, region, self._rounds.get(region, 1))

    def _cra_deadline(self) -> datetime | None:
        return max((c.deadline for c in self._consultations.values() if c.deadline),
                   default=None)

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

