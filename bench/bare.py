"""The baseline: a bare workflow pair of the same shape as the standard path of a dossier.

Same commands as a one-region dossier on the service's lean path (issue 18) that goes receipt →
consultation → admissibility → eligibility → decision → notification: 6 activities and 6 local
activities on the parent, 2 activities on the child, one child workflow, two timers raced
against conditions on each, four updates (three on the parent, one on the child, which returns
once its signal to the parent is sent) and the parent's ``close`` signal to the child. Every
body is a no-op: no I/O, no payload codec, no search attributes, no current details, no
synthesis records on the opinion. Kept free of project imports: the workflow sandbox loads it.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError

WAIT = timedelta(days=7)  # the first reminder of each human wait; never reached here
# The service's lean path (issue 18): platform steps and emails are activities, the store
# steps (snapshot, records, the CRA pair) local activities, the two decision emails together.
PARENT_BEFORE = (("fetch_dossier", False), ("save_snapshot", True), ("save_record", True),
                 ("passer_en_instruction", False), ("cra_pair", True))
PARENT_AFTER = (("annotate", False), ("decide", False))


@activity.defn
async def noop(what: str) -> None:
    """Stands for any of the service's activities."""


async def _act(what: str, local: bool = False) -> None:
    if local:
        await workflow.execute_local_activity(noop, what,
                                              start_to_close_timeout=timedelta(seconds=30))
        return
    await workflow.execute_activity(noop, what, start_to_close_timeout=timedelta(seconds=60),
                                    summary=what)


@workflow.defn
class BareConsultation:
    def __init__(self) -> None:
        self._opinion: str | None = None
        self._closed = False
        self._notices: list[asyncio.Future[None]] = []

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
        await asyncio.gather(*self._notices)
        return self._opinion or "none"

    @workflow.update
    async def submit_opinion(self, opinion: str) -> str:
        self._opinion = opinion
        parent = workflow.info().parent
        if parent is not None:  # as the service: sent in this task, delivery awaited by the run
            self._notices.append(asyncio.ensure_future(
                workflow.get_external_workflow_handle(parent.workflow_id).signal(
                    "cra_opinion", opinion)))
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
        for what, local in PARENT_BEFORE:
            await _act(what, local)
        child_id = f"{workflow.info().workflow_id}-cra"
        child = await workflow.start_child_workflow(BareConsultation.run, number, id=child_id)
        self._stage = "admissibility"
        await _act("save_record", local=True)
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._admissible, timeout=WAIT)
        self._stage = "instruction"
        await _act("save_record", local=True)
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._decision is not None, timeout=WAIT)
        await workflow.get_external_workflow_handle(child_id).signal(BareConsultation.close)
        await child
        for what, local in PARENT_AFTER:
            await _act(what, local)
        await asyncio.gather(_act("send_email"), _act("send_email"))
        await _act("save_record", local=True)
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
