"""Outages of the other services while dossiers run: nothing lost, nothing doubled."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from core.domain.procedure import Outcome, Stage
from tests.support import Stack
from tests.workflows.helpers import (
    admissible,
    consultation,
    decision,
    opinion,
    start_dossier,
    wait_for,
)
from workflows.consultation import CraConsultationWorkflow
from workflows.dossier import DossierWorkflow


async def test_smtp_and_platform_outages_delay_but_lose_and_double_nothing(
    time_env: WorkflowEnvironment, ts_stack: Stack
) -> None:
    # The mailbox refuses the next 6 transactions (451), the platform answers 500 then 429.
    (await ts_stack.mailbox.post("/api/faults", json={"reject_count": 6})).raise_for_status()
    (await ts_stack.platform.post("/_standin/faults", json={"status": 500, "count": 3})
     ).raise_for_status()
    numbers = [await ts_stack.file(0), await ts_stack.file(1)]
    client = time_env.client
    async with ts_stack.worker(client) as worker:
        handles = [await start_dossier(client, n, worker.task_queue) for n in numbers]
        (await ts_stack.platform.post("/_standin/faults", json={
            "status": 429, "count": 2, "retry_after": 1})).raise_for_status()
        for n, handle in zip(numbers, handles, strict=True):
            status = await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY
                                    and len(s.consultations) == len(s.dossier.regions), 60)
            for view in status.consultations:
                await consultation(client, n, view.region).execute_update(
                    CraConsultationWorkflow.submit_opinion, opinion(f"cra-{view.region}-ess"))
            await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
            # At instruction (the admissibility stage's record may still be retrying) with the
            # opinions: the decision is allowed.
            await wait_for(handle, lambda s: s.stage is Stage.INSTRUCTION
                           and all(c.opinion for c in s.consultations))
            await handle.execute_update(DossierWorkflow.record_decision,
                                        decision(Outcome.LAUREAT))
        results = [await h.result() for h in handles]

    assert [r.outcome for r in results] == [Outcome.LAUREAT, Outcome.LAUREAT]
    faults = (await ts_stack.mailbox.get("/api/faults")).json()
    assert faults["reject_count"] == 0  # the outage really happened and was absorbed
    for n in numbers:
        assert (await ts_stack.dossier(n))["state"] == "accepte"
        mutations = await ts_stack.mutations(n)
        assert mutations.count("dossierPasserEnInstruction") == 1
        assert mutations.count("dossierAccepter") == 1
        keys = await ts_stack.sent_keys(n)
        assert len(keys) == len(set(keys))
    messages = await ts_stack.emails()
    keys = [k for n in numbers for k in await ts_stack.sent_keys(n)]
    assert len(messages) == len(keys)  # every email delivered once, none lost
    assert len({m["message_id"] for m in messages}) == len(messages)
