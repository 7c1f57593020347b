"""The reset itself, as its plan says (``api.admin.reset``): consultations opened after the
point terminated, the reset with nothing re-applied by the server, then each kept signal and
Update delivered again by the tool, in order, and the outcome of each reported."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import (
    ResetReapplyExcludeType,
    ResetReapplyType,
    UpdateWorkflowExecutionLifecycleStage,
)
from temporalio.api.update.v1 import Input, Meta, Request, WaitPolicy
from temporalio.api.workflowservice.v1 import (
    ResetWorkflowExecutionRequest,
    SignalWorkflowExecutionRequest,
    UpdateWorkflowExecutionRequest,
)
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.admin.audit import temporal_identity, temporal_reason
from api.admin.reset import ORDER, Delivery, ResetPlan
from core.domain.procedure import Stage
from workflows import search_attributes as sa
from workflows.dossier import DossierWorkflow

_ACCEPTED = UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED
_EXCLUDE = [ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL,
            ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE]
_POLL = 0.25


@dataclass
class ResetReport:
    run_id: str
    outcomes: list[tuple[str, str]] = field(default_factory=list)  # (plan line, outcome)
    differences: list[str] = field(default_factory=list)  # kept, yet not applied

    def lines(self) -> list[str]:
        out = [f"Fait : nouvelle exécution {self.run_id}."]
        out += [f"  - {line} : {outcome}" for line, outcome in self.outcomes]
        if self.differences:
            out.append(f"  DIFFÉRENCE avec la simulation ({len(self.differences)}) : "
                       + " ; ".join(self.differences))
        return out


async def _terminate_reopened(client: Client, plan: ResetPlan) -> None:
    for child_id in plan.reopened:
        handle = client.get_workflow_handle(child_id)
        try:
            described = await handle.describe()
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                continue
            raise
        parent = described.raw_description.workflow_execution_info.parent_execution
        if described.status is WorkflowExecutionStatus.RUNNING and parent.run_id == plan.run_id:
            await handle.terminate(reason=temporal_reason(
                f"réinitialisation de {plan.workflow_id} : consultation rouverte par la "
                "nouvelle exécution"))


async def _stage(client: Client, workflow_id: str, run_id: str) -> tuple[Stage | None, bool]:
    described = await client.get_workflow_handle(workflow_id, run_id=run_id).describe()
    value = described.typed_search_attributes.get(sa.STAGE)
    stage = Stage(value) if value is not None and value in Stage.__members__.values() else None
    return stage, described.status is not WorkflowExecutionStatus.RUNNING


async def _reached(client: Client, plan: ResetPlan, run_id: str, d: Delivery,
                   wait: timedelta) -> str | None:
    """The run the delivery goes to (None: not reached in time)."""
    deadline = asyncio.get_running_loop().time() + wait.total_seconds()
    while True:
        if d.target == plan.workflow_id:
            stage, closed = await _stage(client, plan.workflow_id, run_id)
            if d.stage is None or (stage is not None
                                   and ORDER.index(stage) >= ORDER.index(d.stage)) or closed:
                return run_id
        else:  # the new instance of a reopened consultation, started by the new run
            try:
                described = await client.get_workflow_handle(d.target).describe()
                parent = described.raw_description.workflow_execution_info.parent_execution
                if parent.run_id == run_id:
                    return described.run_id
            except RPCError as exc:
                if exc.status is not RPCStatusCode.NOT_FOUND:
                    raise
        if asyncio.get_running_loop().time() > deadline:
            return None
        await asyncio.sleep(_POLL)


async def _deliver(client: Client, d: Delivery, run_id: str, identity: str) -> str:
    try:
        return await _send(client, d, run_id, identity)
    except RPCError as exc:
        if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            return "non délivré (exécution close)"
        raise


async def _opinion_noticed(client: Client, plan: ResetPlan, run_id: str, d: Delivery,
                           wait: timedelta) -> None:
    """A CRA answer delivered to a reopened consultation: its notice reaches the dossier before
    what follows (a decision waits for the opinion, as it did the first time)."""
    region = d.target.split("-cra-", 1)[1].rsplit("-r", 1)[0]
    handle = client.get_workflow_handle_for(DossierWorkflow.run, plan.workflow_id,
                                            run_id=run_id)
    deadline = asyncio.get_running_loop().time() + wait.total_seconds()
    while asyncio.get_running_loop().time() < deadline:
        with contextlib.suppress(RPCError, WorkflowQueryFailedError):
            status = await handle.query(DossierWorkflow.status)
            if any(c.region == region and c.opinion for c in status.consultations):
                return
        await asyncio.sleep(_POLL)


async def _send(client: Client, d: Delivery, run_id: str, identity: str) -> str:
    execution = WorkflowExecution(workflow_id=d.target, run_id=run_id)
    if d.kind == "signal":
        signaled = d.event.workflow_execution_signaled_event_attributes
        await client.workflow_service.signal_workflow_execution(SignalWorkflowExecutionRequest(
            namespace=client.namespace, workflow_execution=execution,
            signal_name=signaled.signal_name, input=signaled.input, header=signaled.header,
            identity=identity, request_id=str(uuid.uuid4())))
        return "ré-appliqué"
    accepted = d.event.workflow_execution_update_accepted_event_attributes.accepted_request
    request = UpdateWorkflowExecutionRequest(
        namespace=client.namespace, workflow_execution=execution,
        wait_policy=WaitPolicy(lifecycle_stage=_ACCEPTED),
        request=Request(meta=Meta(update_id=accepted.meta.update_id, identity=identity),
                        input=Input(header=accepted.input.header, name=accepted.input.name,
                                    args=accepted.input.args)))
    while True:  # the same Update id each time: admitted once, answered when decided
        response = await client.workflow_service.update_workflow_execution(request)
        if response.outcome.HasField("failure"):
            kind = response.outcome.failure.application_failure_info.type or "refus"
            return f"refusé ({kind})"
        if response.stage >= _ACCEPTED:
            return "ré-appliqué"


async def execute_reset(client: Client, plan: ResetPlan, reason: str, identity: str,
                        wait: timedelta = timedelta(minutes=2)) -> ResetReport:
    """Resets, then delivers what the plan keeps; the report says what each one became.
    The reason and identity land in the new run's history."""
    await _terminate_reopened(client, plan)
    who = temporal_identity(identity)
    response = await client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=plan.workflow_id,
                                                 run_id=plan.run_id),
            reason=temporal_reason(reason),
            workflow_task_finish_event_id=plan.event_id,
            request_id=str(uuid.uuid4()),
            reset_reapply_type=ResetReapplyType.RESET_REAPPLY_TYPE_ALL_ELIGIBLE,
            reset_reapply_exclude_types=_EXCLUDE,
            identity=who,
        ))
    report = ResetReport(run_id=response.run_id)
    for d in plan.deliveries:
        line = d.line(plan.workflow_id)
        if d.dropped is not None:
            continue
        target_run = await _reached(client, plan, response.run_id, d, wait)
        if target_run is None:
            outcome = "non délivré (étape ou consultation non atteinte à temps)"
        else:
            outcome = await _deliver(client, d, target_run, who)
            if d.name == "submit_opinion" and outcome == "ré-appliqué":
                await _opinion_noticed(client, plan, response.run_id, d, wait)
        report.outcomes.append((line, outcome))
        if outcome != "ré-appliqué":
            report.differences.append(f"{line} : {outcome}")
    return report
