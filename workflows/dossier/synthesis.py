"""BESSII's synthesis: every record the dossier writes carries a full snapshot of what the
synthesis shows, and a recorder writes one more whenever a consultation moves between stage
changes (an opinion, a reminder, an end, a consultation opened by an admin).

The snapshot rides on the existing ``store_record`` activity, so executions recorded before it
write it too, at their stage changes, without a new command. The recorder is new commands: it
starts only past ``patches.SYNTHESIS_RECORDER`` (executions that consulted a CRA before it keep
their stage-change records only). Each snapshot has a version that only grows (workflow time,
then a counter), and the store keeps the newest: retries, replays and resets converge.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core.domain.cra import ConsultationView, CraContact
    from core.domain.procedure import Stage
    from core.domain.synthesis import ConsultationSynthesis, DossierSynthesis, EligibilitySynthesis
    from workflows import patches

# The parts of the dossier workflow build on each other (workflow code: not passed through).
from workflows.dossier.state import DossierState


def _author(view: ConsultationView, members: list[CraContact]) -> str | None:
    if view.opinion is None:
        return None
    found = next((m for m in members if m.id == view.opinion.written_by), None)
    return f"{found.name} ({found.role})" if found else view.opinion.written_by


class SynthesisRecords(DossierState):
    _synthesis_version = 0
    _synthesis_dirty = False
    _recorder: asyncio.Task[None] | None = None
    _recorder_patched: bool | None = None
    _writing = False  # a record is in flight

    def _snapshot(self) -> DossierSynthesis:
        now = int(workflow.now().timestamp() * 1_000_000) * 1000
        self._synthesis_version = max(self._synthesis_version + 1, now)
        d = self._dossier
        eligibility = (EligibilitySynthesis(assessment=self._eligibility.assessment,
                                            by=self._eligibility.agent.name)
                       if self._eligibility else None)
        return DossierSynthesis(
            version=self._synthesis_version,
            project=d.project_name if d else None, structure=d.structure.name if d else None,
            filed_at=(d.deposited_at or d.updated_at) if d else None,
            regions=list(d.regions) if d else [],
            territory=self._territory_flags() if d else None,
            admissibility=self._admissibility, eligibility=eligibility, decision=self._decision,
            consultations=[self._consultation_synthesis(v) for v in self._consultations.values()])

    def _consultation_synthesis(self, view: ConsultationView) -> ConsultationSynthesis:
        opinion = view.opinion
        return ConsultationSynthesis(
            region=view.region, round=self._rounds.get(view.region, 1), status=view.status,
            opinion=opinion.opinion if opinion else None,
            motivation=opinion.motivation if opinion else None,
            criteria_assessment=opinion.criteria_assessment if opinion else None,
            appreciations=dict(opinion.appreciations) if opinion else {},
            author=_author(view, self._members.get(view.region, [])),
            answered_at=opinion.written_at if opinion else None,
            amended_at=opinion.amended_at if opinion else None,
            invited_at=view.invited_at, deadline=view.deadline,
            reminders_sent=view.reminders_sent)

    async def _record(self, *, reset_point: bool = False, **values: object) -> None:
        # One record at a time, the run's or the recorder's: two writes of one dossier would
        # contend for its row (SQLite: "database is locked", retried a second later). Without
        # the recorder (executions before it) the run's records never overlap: no wait, no
        # command differs.
        if self._writing:
            await workflow.wait_condition(lambda: not self._writing)
        self._writing = True
        self._synthesis_dirty = False  # this record carries everything up to now
        try:
            await super()._record(reset_point=reset_point, synthesis=self._snapshot(), **values)
        finally:
            self._writing = False

    def _mark(self) -> None:
        """Something the synthesis shows changed: the recorder writes it (new executions)."""
        if self._recorder_patched is None:
            self._recorder_patched = (self._lean
                                      or workflow.patched(patches.SYNTHESIS_RECORDER.id))
        if not self._recorder_patched:
            return
        self._synthesis_dirty = True
        if self._recorder is None:
            self._recorder = asyncio.create_task(self._keep_recording())

    async def _keep_recording(self) -> None:
        while True:
            # Not while the run opens the consultations: its own record follows at once.
            await workflow.wait_condition(
                lambda: (self._synthesis_dirty and not self._opening)
                or self._stage is Stage.CLOSED)
            if self._stage is Stage.CLOSED:
                return  # the final record carried the last snapshot
            await self._record()
