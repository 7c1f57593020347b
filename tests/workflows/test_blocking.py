"""A dossier never ends Failed: a failure retrying cannot cure parks the step, an admin resumes.

Each activity of the standard path is refused once, non-retryably (as the platform refuses a
decision, or a store finds no CRA pair): the dossier (or its consultation) waits in a visible
blocked state (``blocks`` query, ``BlockedStep`` search attribute, an alert to the admins), an
admin resumes it with ``resume``, and it ends with one notification: every mutation once, one
decision email.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.mail.activities import MailActivities
from activities.platform.activities import PlatformActivities
from activities.store import StoreActivities
from api.admin.desk import AdminDesk
from api.errors import Refused
from core.domain.admin import Block, BlockAction, BlockResolution
from core.domain.procedure import Agent, ConsultationStatus, Outcome, Stage
from core.ids import consultation_workflow_id, dossier_workflow_id
from tests.support import Stack
from tests.workflows.helpers import (
    admin_cli,
    admissible,
    consultation,
    decision,
    opinion,
    start_dossier,
    wait_for,
)
from tests.workflows.recording import record_history
from tests.workflows.test_temporal_ui import _listed, readme_filter
from workflows import search_attributes as sa
from workflows.consultation import CraConsultationWorkflow
from workflows.dossier import DossierWorkflow

ADMIN = Agent(id="ada.admin@finances.gouv.fr", name="Ada Admin")
REFUSAL = "Refus définitif de test (porteur@example.org)"


def refuse_first(cls: type, method: str, monkeypatch: pytest.MonkeyPatch,
                 when: Callable[[Any], bool] = lambda _: True) -> list[str]:
    """The first call matching ``when`` is refused non-retryably; every later call works."""
    original: Callable[..., Awaitable[Any]] = getattr(cls, method)
    name = activity._Definition.must_from_callable(original).name
    refused: list[str] = []

    async def wrapper(self: Any, arg: Any) -> Any:
        if not refused and when(arg):
            refused.append(name)
            raise ApplicationError(REFUSAL, type="TestRefusal", non_retryable=True)
        return await original(self, arg)

    wrapper.__annotations__ = original.__annotations__
    wrapper.__wrapped__ = original  # type: ignore[attr-defined]
    monkeypatch.setattr(cls, method, activity.defn(name=name)(wrapper))
    return refused


async def blocked(handle: WorkflowHandle[Any, Any]) -> list[Block]:
    """Polls the ``blocks`` query (time does not skip meanwhile) until something is parked."""
    for _ in range(300):
        with contextlib.suppress(RPCError):
            blocks: list[Block] = await handle.query("blocks", result_type=list[Block])
            if blocks:
                return blocks
        await asyncio.sleep(0.1)
    raise AssertionError("never blocked")


async def finished(handle: WorkflowHandle[Any, Any], timeout: float = 90.0) -> Any:
    """The result, or after ``timeout`` a failure naming what the dossier is parked on (once, a
    dossier parked again after its resumption left the test waiting for its 300 s limit)."""
    try:
        return await asyncio.wait_for(handle.result(), timeout)
    except TimeoutError:
        parked = await handle.query("blocks", result_type=list[Block])
        raise AssertionError(f"{handle.id} still running after {timeout:.0f} s; parked on: "
                             f"{[(b.step, b.error_type, b.message) for b in parked]}") from None


async def _standard_path(client: Client, s: Stack, n: int,
                         handle: WorkflowHandle[DossierWorkflow, Any]) -> None:
    await wait_for(handle, lambda st: st.stage is Stage.ADMISSIBILITY and st.consultations)
    await consultation(client, n, "53").execute_update(
        CraConsultationWorkflow.submit_opinion, opinion("cra-53-ess"))
    await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
    await wait_for(handle, lambda st: st.stage is Stage.INSTRUCTION
                   and st.consultations[0].opinion is not None)
    await handle.execute_update(DossierWorkflow.record_decision, decision(Outcome.LAUREAT))


async def blocked_step(handle: WorkflowHandle[Any, Any]) -> str | None:
    """The ``BlockedStep`` search attribute, read raw (the time-skipping server's datetime
    attributes do not parse as typed search attributes)."""
    described = await handle._client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(namespace=handle._client.namespace,
                                         execution=WorkflowExecution(workflow_id=handle.id)))
    fields = described.workflow_execution_info.search_attributes
    payload = fields.indexed_fields.get(sa.BLOCKED_STEP.name)
    if payload is None or not payload.data:
        return None
    value = DataConverter.default.payload_converter.from_payloads([payload])[0]
    return value if isinstance(value, str) else None


CASES = {
    # (activity class, method, which call) -> the dossier's standard path still ends once
    "fetch": (PlatformActivities, "fetch_dossier", lambda _: True),
    "snapshot": (StoreActivities, "save_snapshot", lambda _: True),
    "record": (StoreActivities, "save_record", lambda _: True),
    "instruction": (PlatformActivities, "passer_en_instruction", lambda _: True),
    "cra-pair": (StoreActivities, "cra_pair", lambda _: True),
    "annotate": (PlatformActivities, "annotate", lambda _: True),
    "decide": (PlatformActivities, "decide", lambda _: True),
    "decision-email": (MailActivities, "send_email",
                       lambda r: r.template == "decision_applicant"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_refused_step_parks_the_dossier_until_an_admin_retries_it(
    case: str, time_env: WorkflowEnvironment, ts_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    cls, method, when = CASES[case]
    refused = refuse_first(cls, method, monkeypatch, when)
    n = await ts_stack.file(0)
    client = time_env.client
    desk = AdminDesk(client, ts_stack.res.db)
    async with ts_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        if case in ("annotate", "decide", "decision-email"):
            await _standard_path(client, ts_stack, n, handle)
        [block] = await blocked(handle)
        assert refused and block.error_type == "TestRefusal"
        assert "porteur@example.org" not in block.message  # personal data redacted
        assert await blocked_step(handle) == block.step
        await desk.resume(n, None, BlockResolution(agent=ADMIN, reason="cause corrigée",
                                                   action=BlockAction.RETRY))
        if case not in ("annotate", "decide", "decision-email"):
            await _standard_path(client, ts_stack, n, handle)
        result = await finished(handle)
        step_after = await blocked_step(handle)
        if case in ("cra-pair", "decide"):  # a step of the run, one of a queued opening
            await record_history(client, f"blocked-{case}-resumed", dossier_workflow_id(n))
        if cls is StoreActivities:  # local activities on the lean path: their parking replays
            await record_history(client, f"blocked-{case}", dossier_workflow_id(n),
                                 consultation_workflow_id(n, "53"))

    assert result.outcome is Outcome.LAUREAT
    assert step_after is None  # unset once resumed
    assert await ts_stack.mutations(n) == [
        "dossierPasserEnInstruction", "dossierModifierAnnotations", "dossierAccepter"]
    assert len(await ts_stack.emails(subject="Décision sur votre candidature")) == 1  # one notification
    alerts = await ts_stack.emails(to=ts_stack.settings.smtp.admins_mailbox)
    assert len(alerts) == 1 and "bloqué" in alerts[0]["subject"]
    keys = await ts_stack.sent_keys(n)
    assert len(keys) == len(set(keys))


async def test_a_refused_invitation_parks_the_consultation_and_skip_goes_on(
    time_env: WorkflowEnvironment, ts_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CRA member's invitation refused for good: the consultation waits; an admin who sent
    the link by hand skips the step, and the committee answers as usual."""
    refuse_first(MailActivities, "send_cra_link_email", monkeypatch)
    n = await ts_stack.file(0)
    client = time_env.client
    async with ts_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        child = client.get_workflow_handle(consultation_workflow_id(n, "53"))
        [block] = await blocked(child)
        assert block.step == "email:cra_invitation"
        await AdminDesk(client, ts_stack.res.db).resume(n, "53", BlockResolution(
            agent=ADMIN, reason="lien envoyé à la main", action=BlockAction.SKIP))
        await _standard_path(client, ts_stack, n, handle)
        result = await finished(handle)
        await record_history(client, "blocked-invitation-skipped", consultation_workflow_id(n, "53"))
    assert result.outcome is Outcome.LAUREAT
    assert result.consultations[0].status is ConsultationStatus.ANSWERED


async def test_an_admin_closes_a_blocked_dossier_and_nothing_more_is_sent(
    time_env: WorkflowEnvironment, ts_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_first(PlatformActivities, "passer_en_instruction", monkeypatch)
    n = await ts_stack.file(0)
    client = time_env.client
    async with ts_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await blocked(handle)
        desk = AdminDesk(client, ts_stack.res.db)
        with pytest.raises(Refused, match="NotBlocked"):  # a block that does not exist
            await desk.resume(n, None, BlockResolution(agent=ADMIN, reason="x",
                                                       action=BlockAction.SKIP, block=99))
        await desk.resume(n, None, BlockResolution(
            agent=ADMIN, reason="dossier déposé deux fois", action=BlockAction.CLOSE))
        result = await finished(handle)
        status = await handle.query(DossierWorkflow.status)
    assert result.outcome is None and result.motivation == "dossier déposé deux fois"
    assert status.stage is Stage.CLOSED
    assert await ts_stack.mutations(n) == []
    assert await ts_stack.emails(subject="Décision sur votre candidature") == []


async def test_a_terminated_consultation_lets_the_decision_through(
    dev_env: WorkflowEnvironment, dev_stack: Stack
) -> None:
    """Terminating a consultation (UI, ``ptce admin batch … terminate``) counts as closed
    without an opinion: BESSII decides without an override and the decision is notified.
    (On the dev server: the time-skipping server does not tell the parent of a terminated child.)"""
    ts_stack = dev_stack
    n = await ts_stack.file(0)
    client = dev_env.client
    async with ts_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for(handle, lambda st: st.stage is Stage.ADMISSIBILITY and st.consultations)
        await consultation(client, n, "53").terminate(reason="consultation ouverte par erreur")
        await wait_for(handle, lambda st: st.consultations[0].status is ConsultationStatus.SKIPPED)
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await wait_for_stage_instruction(handle)
        await handle.execute_update(DossierWorkflow.record_decision, decision(Outcome.NON_RETENU,
                                                                            "Hors cadre."))
        result = await finished(handle)
    assert result.outcome is Outcome.NON_RETENU
    assert result.consultations[0].status is ConsultationStatus.SKIPPED
    assert await ts_stack.mutations(n) == [
        "dossierPasserEnInstruction", "dossierModifierAnnotations", "dossierRefuser"]
    assert len(await ts_stack.emails(subject="Décision sur votre candidature")) == 1


async def wait_for_stage_instruction(handle: WorkflowHandle[DossierWorkflow, Any]) -> None:
    await wait_for(handle, lambda st: st.stage is Stage.INSTRUCTION)


async def test_an_admin_finds_a_blocked_dossier_and_resumes_it_from_the_command_line(
    dev_env: WorkflowEnvironment, dev_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the dev server: the README's filter lists it, ``ptce admin stuck`` says why with the
    platform's message, ``ptce admin resume --action skip`` (decision recorded by hand on the
    platform) lets the notification go on without a second decision."""
    refuse_first(PlatformActivities, "decide", monkeypatch)
    n = await dev_stack.file(0)
    client = dev_env.client
    async with dev_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await _standard_path(client, dev_stack, n, handle)
        await blocked(handle)
        query = readme_filter("dossiers et consultations bloqués (à reprendre par un administrateur)")
        listed = await _listed(client, f"{query} AND DossierNumber = {n}",
                               {dossier_workflow_id(n)})
        stuck = await admin_cli(monkeypatch, dev_env, dev_stack, "stuck", "--json")
        resumed = await admin_cli(monkeypatch, dev_env, dev_stack, "resume", str(n), "--action",
                                  "skip", "--reason", "décision saisie à la main")
        result = await finished(handle)
        status = await handle.query(DossierWorkflow.status)
    assert listed == {dossier_workflow_id(n)}
    [case] = [c for c in json.loads(stuck.stdout) if c["workflow_id"] == dossier_workflow_id(n)]
    [reason] = [r for r in case["reasons"] if r["kind"] == "blocked"]
    assert "Décision sur la plateforme" in reason["detail"] and "Refus définitif" in reason["detail"]
    assert resumed.exit_code == 0, resumed.output
    assert result.outcome is Outcome.LAUREAT
    assert await dev_stack.mutations(n) == ["dossierPasserEnInstruction",
                                            "dossierModifierAnnotations"]
    assert any("à la main" in step.what for step in status.steps)
    assert len(await dev_stack.emails(subject="Décision sur votre candidature")) == 1
