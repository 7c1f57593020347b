"""Helpers for workflow tests: start a dossier, wait for a stage, act as BESSII or a CRA member."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner, Result

from api.cli.main import app
from core.domain.cra import OpinionSubmission
from core.domain.procedure import AdmissibilityDecision, Agent, DecisionRequest, Outcome, Stage
from core.ids import consultation_workflow_id, dossier_workflow_id
from core.settings import get_settings
from tests.support import FAST_POLICY, Stack
from workflows.consultation import CraConsultationWorkflow
from workflows.dossier import DossierWorkflow
from workflows.payloads import DossierInput, DossierResult, DossierStatus

AGENT = Agent(id="agent-1", name="Aurore Agent")
CLI_ADMIN = "ada.admin@finances.gouv.fr"  # an admin by configuration (bootstrap_admins)


async def admin_cli(monkeypatch: pytest.MonkeyPatch, env: WorkflowEnvironment, s: Stack,
                    *args: str) -> Result:
    """``ptce admin <args> --as CLI_ADMIN`` against this test's Temporal server and database."""
    monkeypatch.setenv("PTCE_TEMPORAL__ADDRESS", env.client.service_client.config.target_host)
    monkeypatch.setenv("DATABASE_URL", s.settings.effective_database_url)
    monkeypatch.setenv("PTCE_AGENTS__BOOTSTRAP_ADMINS", json.dumps([CLI_ADMIN]))
    get_settings.cache_clear()
    try:  # the command runs its own event loop
        return await asyncio.to_thread(CliRunner().invoke, app,
                                       ["admin", *args, "--as", CLI_ADMIN])
    finally:
        get_settings.cache_clear()


async def start_dossier(client: Client, number: int, task_queue: str
                        ) -> WorkflowHandle[DossierWorkflow, DossierResult]:
    return await client.start_workflow(
        DossierWorkflow.run, DossierInput(number=number, demarche=1001, policy=FAST_POLICY),
        id=dossier_workflow_id(number), task_queue=task_queue)


async def wait_for(handle: WorkflowHandle[DossierWorkflow, Any], predicate: Any,
                   timeout: float = 30.0) -> DossierStatus:
    """Polls the ``status`` query until ``predicate(status)``: time does not skip meanwhile.
    Every 50 ms at first, then less and less often (at most every half second): a quick step is
    seen at once, a long wait does not keep the worker answering queries."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: DossierStatus | None = None
    pause = 0.05
    while asyncio.get_running_loop().time() < deadline:
        try:
            last = await handle.query(DossierWorkflow.status)
            if predicate(last):
                return last
        except RPCError:
            pass
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, 0.5)
    raise AssertionError(f"condition not reached; last status: {last}")


async def wait_for_stage(handle: WorkflowHandle[DossierWorkflow, Any], stage: Stage
                         ) -> DossierStatus:
    return await wait_for(handle, lambda s: s.stage is stage)


def consultation(client: Client, number: int, region: str
                 ) -> WorkflowHandle[CraConsultationWorkflow, Any]:
    return client.get_workflow_handle_for(CraConsultationWorkflow.run,
                                          consultation_workflow_id(number, region))


def opinion(member: str, verdict: str = "favourable", motivation: str = "Projet solide.",
            **extra: Any) -> OpinionSubmission:
    return OpinionSubmission.model_validate({
        "member_id": member, "opinion": verdict, "motivation": motivation,
        "no_conflict_of_interest": True, **extra})


def admissible(ok: bool = True, reason: str = "Dossier complet et éligible.") -> AdmissibilityDecision:
    return AdmissibilityDecision(agent=AGENT, admissible=ok, reason=reason)


def decision(outcome: Outcome = Outcome.LAUREAT, motivation: str = "",
             override: str | None = None) -> DecisionRequest:
    return DecisionRequest(agent=AGENT, outcome=outcome, motivation=motivation,
                           override_reason=override)
