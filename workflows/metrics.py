"""Business metrics recorded from inside the workflows, through ``workflow.metric_meter()``.

A worker interceptor watches what the workflows already do, so the workflow code stays about
the procedure: an update ``submit_opinion`` is a CRA's answer (its delay since the invitation,
i.e. the consultation's start), ``record_decision`` a decision by outcome, a ``*_reminder``
email a reminder sent. The SDK drops metrics recorded while a history replays, so a worker
restart does not count twice; they are exported with the SDK's own metrics (the worker's
Prometheus endpoint, ``PTCE_TELEMETRY__METRICS_BIND_ADDRESS``). Labels never identify a person.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.worker import (
    ExecuteWorkflowInput,
    HandleUpdateInput,
    Interceptor,
    StartActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

CRA_ANSWER_DELAY = "ptce_cra_answer_delay_days"
DECISIONS = "ptce_decisions"
REMINDERS = "ptce_reminders_sent"
DOSSIERS_STARTED = "ptce_dossiers_started"
CRA_ANSWER_BUCKETS = [1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 14.0, 19.0, 21.0, 30.0]
_EMAIL_ACTIVITIES = {"send_email", "send_cra_link_email"}


class BusinessMetrics(Interceptor):
    def workflow_interceptor_class(
            self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _Inbound


class _Inbound(WorkflowInboundInterceptor):
    _answered = False

    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_Outbound(outbound))

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        if workflow.info().workflow_type == "DossierWorkflow":
            workflow.metric_meter().create_counter(
                DOSSIERS_STARTED, "Dossiers reçus (workflows démarrés)").add(1)
        return await super().execute_workflow(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        result = await super().handle_update_handler(input)
        meter = workflow.metric_meter()
        if input.update == "submit_opinion" and not self._answered:
            self._answered = True  # an amended opinion is not a second answer
            delay = workflow.now() - workflow.info().start_time
            meter.create_histogram_float(
                CRA_ANSWER_DELAY, "Délai de réponse des CRA depuis l’invitation", "days",
            ).record(delay.total_seconds() / 86400)
        elif input.update == "record_decision" and input.args:
            outcome = str(getattr(input.args[0], "outcome", "unknown"))
            meter.create_counter(DECISIONS, "Décisions du BESSII par issue").add(
                1, {"outcome": outcome})
        return result


class _Outbound(WorkflowOutboundInterceptor):
    def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle[Any]:
        if input.activity in _EMAIL_ACTIVITIES and input.args:
            template = str(getattr(input.args[0], "template", ""))
            if template.endswith("_reminder"):
                workflow.metric_meter().create_counter(REMINDERS, "Relances envoyées").add(
                    1, {"template": template})
        return super().start_activity(input)
