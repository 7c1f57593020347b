"""The CRA consultations of a dossier: one child workflow per region and round, opened, followed,
closed; the opinions, moved deadlines and member changes they report to the dossier.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from datetime import datetime

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from activities.store import StoreActivities
    from core.domain.admin import DeadlineNotice
    from core.domain.cra import ConsultationView
    from core.domain.procedure import OPINION_LABELS, ConsultationStatus, Stage
    from core.domain.regions import region_name
    from core.ids import consultation_workflow_id
    from workflows import search_attributes as sa
    from workflows.consultation import (
        DEADLINE_SIGNAL,
        MEMBERS_SIGNAL,
        OPINION_SIGNAL,
        REMINDER_SIGNAL,
        CraConsultationWorkflow,
    )
    from workflows.payloads import (
        CloseRequest,
        ConsultationInput,
        ConsultationResult,
        MembersNotice,
        OpinionNotice,
        ReminderNotice,
    )

# The parts of the dossier workflow build on each other (workflow code: not passed through).
from workflows.dossier.state import NEXT_STEP
from workflows.dossier.synthesis import SynthesisRecords


class Consultations(SynthesisRecords):
    async def _start_consultations(self) -> list[asyncio.Task[None]]:
        """Opens one consultation per region; the list grows when an admin opens another.

        Queued (``patches.AMENDMENT_QUEUE``): each region is reserved at once and its opening
        queued; the run works through the queue (an admin's correction meanwhile is queued
        after, against the reserved consultations), then hands it to the queue's worker."""
        assert self._dossier is not None
        if self._queued:
            for region in self._dossier.regions:
                self._reserve(region, 1)
                self._enqueue(functools.partial(self._open_if_current, region, 1))
            await self._drain()
            self._start_worker()
            return self._tasks
        self._opening = True  # region corrections wait for the end of the loop below
        for region in self._dossier.regions:
            await self._open_consultation(region, 1)
        self._opening = False
        return self._tasks

    def _reserve(self, region: str, round_: int) -> None:
        """A consultation about to open: pending at once (a decision now needs an override)."""
        self._rounds[region] = round_
        self._finished.discard(region)
        self._consultations[region] = ConsultationView(region=region)

    async def _open_if_current(self, region: str, round_: int) -> None:
        """A queued opening: unless a later correction removed the region or replaced the
        round meanwhile; the stage's deadline then follows the consultations."""
        if self._rounds.get(region) != round_ or region not in self._consultations:
            return
        await self._open_consultation(region, round_)
        if self._queued and self._stage in (Stage.ADMISSIBILITY, Stage.INSTRUCTION):
            self._stage_deadline = self._cra_deadline()
            self._publish(NEXT_STEP[self._stage])

    async def _open_consultation(self, region: str, round_: int) -> None:
        assert self._dossier is not None
        label = f"Binôme CRA {region_name(region)}"
        members = await self._guarded(f"cra_pair:{region}", label, lambda: self._store(
            StoreActivities.cra_pair, region, label))
        if members is None:  # an admin skipped the blocked step: this region is not consulted
            self._rounds[region] = round_
            self._finished.add(region)
            self._members[region] = []
            self._consultations[region] = ConsultationView(region=region,
                                                           status=ConsultationStatus.SKIPPED)
            self._step(f"Consultation de la CRA {region_name(region)} non ouverte (étape passée "
                       "par un administrateur)")
            return
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
            # Lean: the consultation starts with its attributes (no upsert of its own for them).
            search_attributes=self._consultation_attributes(region, deadline) if self._lean
            else None,
        )
        self._rounds[region] = round_
        self._consultations[region] = ConsultationView(region=region, deadline=deadline,
                                                       invited_at=start)
        self._step(f"Consultation de la CRA {region_name(region)} ouverte{again}")
        self._tasks.append(asyncio.create_task(self._follow(region, round_, handle)))
        self._mark()

    def _consultation_attributes(self, region: str, deadline: datetime) -> TypedSearchAttributes:
        """What ``CraConsultationWorkflow._publish`` sets first, given at its start instead."""
        return TypedSearchAttributes([
            SearchAttributePair(sa.DOSSIER_NUMBER, self._number),
            SearchAttributePair(sa.DEMARCHE, self._input.demarche),
            SearchAttributePair(sa.REGIONS, [region]),
            SearchAttributePair(sa.STAGE, "consultation"),
            SearchAttributePair(sa.STAGE_DEADLINE, deadline)])

    async def _follow(self, region: str, round_: int, handle: workflow.ChildWorkflowHandle[
            CraConsultationWorkflow, ConsultationResult]) -> None:
        interrupted: str | None = None
        try:
            result = await handle
        except ChildWorkflowError as err:
            # Terminated from the UI or by a batch, or failed: the consultation counts as closed
            # without an opinion (one already received stays), and the dossier goes on.
            interrupted = type(err.cause).__name__ if err.cause else "erreur"
            known = self._consultations.get(region)
            result = ConsultationResult(region=region, status=ConsultationStatus.ANSWERED
                                        if known and known.opinion else ConsultationStatus.SKIPPED)
        if self._rounds.get(region) != round_ or region not in self._consultations:
            return  # superseded by a new round, or the region is no longer concerned
        if interrupted:
            self._step(f"Consultation de la CRA {region_name(region)} interrompue "
                       f"({interrupted}) : close sans nouvel avis")
        self._finished.add(region)
        view = self._consultations[region]
        view.status, view.opinion = result.status, result.opinion or view.opinion
        # The notices counted them so far; an interrupted consultation's result says 0.
        view.reminders_sent = max(view.reminders_sent, result.reminders_sent)
        self._step(f"Consultation de la CRA {region_name(region)} terminée ({result.status})")
        self._publish("décision du BESSII" if self._stage is Stage.INSTRUCTION
                      else "confirmation de la recevabilité par le BESSII")
        self._mark()

    async def _close_consultations(self, tasks: list[asyncio.Task[None]]) -> None:
        if self._amending:  # an admin Update is opening or closing a consultation: let it end
            await workflow.wait_condition(lambda: not self._amending)
        if not self._drained():  # queued openings and closings first (new executions)
            await workflow.wait_condition(self._drained)
        for region in list(self._consultations):
            if region not in self._finished:
                await self._signal_close(self._consultation_id(region))
        await asyncio.gather(*tasks)

    async def _signal_close(self, workflow_id: str) -> None:
        handle = workflow.get_external_workflow_handle(workflow_id)
        # It may have ended meanwhile (deadline reached): its result arrives by its handle.
        with contextlib.suppress(ApplicationError):
            await handle.signal(CraConsultationWorkflow.close, CloseRequest())

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
        self._mark()

    @workflow.signal(name=REMINDER_SIGNAL)
    def _on_reminder(self, notice: ReminderNotice) -> None:
        """A consultation reminded its pair: the current details show the count so far."""
        view = self._consultations.get(notice.region)
        if view is None or notice.round != self._rounds.get(notice.region, 1):
            return
        view.reminders_sent = max(view.reminders_sent, notice.reminders_sent)
        if self._stage in (Stage.ADMISSIBILITY, Stage.INSTRUCTION):
            self._publish(NEXT_STEP[self._stage])
        self._mark()

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
            self._publish(NEXT_STEP[self._stage])

    @workflow.signal(name=MEMBERS_SIGNAL)
    def _on_members(self, notice: MembersNotice) -> None:
        if notice.region in self._members:
            self._members[notice.region] = notice.members

