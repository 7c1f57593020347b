"""A worker lost right after a side effect: the activity retries and nothing happens twice.

Each platform mutation reads the dossier's state first; each email carries an idempotency key
recorded once delivered. Here every such activity fails on its first attempt *after* doing its
work, as if the worker died before reporting success.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from temporalio import activity
from temporalio.testing import WorkflowEnvironment

from activities.mail.activities import MailActivities
from activities.platform.activities import PlatformActivities
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

CRASHES: Counter[str] = Counter()


def crash_after(cls: type, method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    original: Callable[..., Awaitable[Any]] = getattr(cls, method)
    name = activity._Definition.must_from_callable(original).name  # the registered name

    async def wrapper(self: Any, arg: Any) -> Any:
        result = await original(self, arg)
        if activity.info().attempt == 1:
            CRASHES[name] += 1
            raise RuntimeError("worker lost right after the side effect")
        return result

    # Keep the typed signature the payload converter reads (resolved in the original module).
    wrapper.__annotations__ = original.__annotations__
    wrapper.__wrapped__ = original  # type: ignore[attr-defined]
    monkeypatch.setattr(cls, method, activity.defn(name=name)(wrapper))


async def test_retries_after_side_effects_apply_each_effect_once(
    time_env: WorkflowEnvironment, ts_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    for method in ("passer_en_instruction", "decide", "annotate"):
        crash_after(PlatformActivities, method, monkeypatch)
    for method in ("send_email", "send_cra_link_email"):
        crash_after(MailActivities, method, monkeypatch)
    CRASHES.clear()

    n = await ts_stack.file(0)
    client = time_env.client
    async with ts_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and s.consultations)
        await consultation(client, n, "53").execute_update(
            CraConsultationWorkflow.submit_opinion, opinion("cra-53-ess"))
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await wait_for(handle, lambda s: s.stage is Stage.INSTRUCTION
                       and s.consultations[0].opinion is not None)
        await handle.execute_update(DossierWorkflow.record_decision, decision(Outcome.LAUREAT))
        result = await handle.result()

    assert result.outcome is Outcome.LAUREAT
    assert CRASHES["platform_passer_en_instruction"] == 1
    assert CRASHES["platform_decide"] == 1
    assert CRASHES["send_email"] >= 2 and CRASHES["send_cra_link_email"] == 2
    assert await ts_stack.mutations(n) == [
        "dossierPasserEnInstruction", "dossierModifierAnnotations", "dossierAccepter"]
    messages = await ts_stack.emails()
    keys = await ts_stack.sent_keys(n)
    assert len(messages) == len(keys) == len(set(keys))  # every email exactly once
    assert len({m["message_id"] for m in messages}) == len(messages)
