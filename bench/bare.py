"""The baseline: a bare workflow pair of the same shape as the standard path of a dossier.

Same commands as a one-region dossier that goes receipt → consultation → admissibility →
eligibility → decision → notification (counted in its history): 13 activities on the parent,
2 on the child, one child workflow, two timers raced against conditions on each, four updates
(three on the parent, one on the child), the child's signal to the parent and the parent's
``close`` signal to the child. Every body is a no-op: no I/O, no payload codec, no search
attributes, no current details. Kept free of project imports: the workflow sandbox loads it.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError

WAIT = timedelta(days=7)  # the first reminder of each human wait; never reached here
PARENT_ACTIVITIES_BEFORE = ("fetch_dossier", "save_snapshot", "save_record", "send_email",
                            "passer_en_instruction", "cra_pair")
PARENT_ACTIVITIES_AFTER = ("annotate", "decide", "send_email", "send_email", "save_record")


@activity.defn
async def noop(what: str) -> None:
    """Stands for any of the service's activities."""


async def _act(what: str) -> None:
    await workflow.execute_activity(noop, what, start_to_close_timeout=timedelta(seconds=60),
                                    summary=what)


@workflow.defn
class BareConsultation:
    def __init__(self) -> None:
        self._opinion: str | None = None
        self._closed = False

    @workflow.run
    async def run(self, number: int) -> str:
        # The two invitation emails; the driver learns of them from the activity "invite", which
        # it runs itself on a queue of its own (as the mailbox stands outside the service).
        driver = f"{workflow.info().task_queue}-driver"
        await asyncio.gather(*(workflow.execute_activity(
            "invite", number, task_queue=driver, start_to_close_timeout=timedelta(seconds=60))
            for _ in range(2)))
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._opinion is not None or self._closed,
                                          timeout=WAIT)
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._closed, timeout=WAIT * 3)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._opinion or "none"

    @workflow.update
    async def submit_opinion(self, opinion: str) -> str:
        self._opinion = opinion
        parent = workflow.info().parent
        if parent is not None:
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(
                "cra_opinion", opinion)
        return opinion

    @submit_opinion.validator
    def _check_open(self, opinion: str) -> None:
        if self._closed:
            raise ApplicationError("consultation closed", type="ConsultationClosed")

    @workflow.signal
    def close(self) -> None:
        self._closed = True


@workflow.defn
class BareDossier:
    def __init__(self) -> None:
        self._stage = "received"
        self._admissible = False
        self._decision: str | None = None
        self._opinion: str | None = None

    @workflow.run
    async def run(self, number: int) -> str:
        for what in PARENT_ACTIVITIES_BEFORE:
            await _act(what)
        child_id = f"{workflow.info().workflow_id}-cra"
        child = await workflow.start_child_workflow(BareConsultation.run, number, id=child_id)
        self._stage = "admissibility"
        await _act("save_record")
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._admissible, timeout=WAIT)
        self._stage = "instruction"
        await _act("save_record")
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._decision is not None, timeout=WAIT)
        await workflow.get_external_workflow_handle(child_id).signal(BareConsultation.close)
        await child
        for what in PARENT_ACTIVITIES_AFTER:
            await _act(what)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._decision or "none"

    @workflow.signal
    def dossier_changed(self) -> None:
        pass  # the intake's signal-with-start

    @workflow.signal
    def cra_opinion(self, opinion: str) -> None:
        self._opinion = opinion

    @workflow.update
    async def confirm_admissibility(self) -> str:
        self._admissible = True
        return self._stage

    @confirm_admissibility.validator
    def _check_admissibility(self) -> None:
        if self._stage != "admissibility" or self._admissible:
            raise ApplicationError("wrong stage", type="WrongStage")

    @workflow.update
    async def record_eligibility(self) -> str:
        return self._stage

    @workflow.update
    async def record_decision(self, outcome: str) -> str:
        self._decision = outcome
        return self._stage

    @record_decision.validator
    def _check_decision(self, outcome: str) -> None:
        if self._stage != "instruction" or self._decision is not None:
            raise ApplicationError("wrong stage", type="WrongStage")
        if self._opinion is None:
            raise ApplicationError("consultation open", type="ConsultationOpen")
