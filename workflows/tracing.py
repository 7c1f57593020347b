"""Traces that follow a person's request into a long-running workflow.

A dossier's workflow runs for weeks in the trace of the call that started it. temporalio's
``TracingInterceptor`` records each Update as a span of that old trace, only *linked* to the
agent's HTTP request. Here an Update runs in the request's own trace instead (its
``HandleUpdate`` span is a child of the client's ``StartWorkflowUpdate`` span), and the
workflow can carry that context on to the work the request causes (``continuing``): an agent's
decision, the workflow's handling of it, the notification activities and their platform and
SMTP calls form one trace. The dossier's own trace keeps a link to it.

Replay-safe: spans are only emitted outside replay (the interceptor's rule) and the carried
context never reaches a command, a query result or a payload.

It subclasses temporalio's interceptor as its docs invite, but calls its underscored helpers
(``_completed_span``, ``_set_on_context``, ``attached_context``): pyproject.toml pins temporalio
to 1.35.x, and tests/workflows/test_tracing.py fails if an upgrade changes them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import opentelemetry.trace
import temporalio.worker
from temporalio.api.common.v1 import Payload
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor
from temporalio.contrib.opentelemetry._context import attached_context

Carrier = dict[str, str]


class _Headers:
    """Receives the headers the interceptor writes for an outbound call, to read its carrier."""

    def __init__(self) -> None:
        self.headers: Mapping[str, Payload] = {}


class RequestTracingWorkflowInbound(TracingWorkflowInboundInterceptor):
    async def handle_update_handler(self, input: temporalio.worker.HandleUpdateInput) -> Any:
        header = input.headers.get(self.header_key)
        request: Carrier | None = (self.payload_converter.from_payloads([header])[0]
                                   if header else None)
        if not request:
            return await super().handle_update_handler(input)
        context = self._set_on_context(self.text_map_propagator.extract(request))
        with attached_context(context):
            out = _Headers()
            self._completed_span(f"HandleUpdate:{input.update}", add_to_outbound=out,
                                 link_context_carrier=self._load_workflow_context_carrier(),
                                 kind=opentelemetry.trace.SpanKind.SERVER)
            handled = out.headers.get(self.header_key)
            if handled is not None:  # not replaying: the handler runs under its own span
                carrier = self.payload_converter.from_payloads([handled])[0]
                context = self._set_on_context(self.text_map_propagator.extract(carrier))
            with attached_context(context):
                return await temporalio.worker.WorkflowInboundInterceptor.handle_update_handler(
                    self, input)


class RequestTracingInterceptor(TracingInterceptor):
    def workflow_interceptor_class(self, input: temporalio.worker.WorkflowInterceptorClassInput
                                   ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the span extern function
        return RequestTracingWorkflowInbound


def current() -> Carrier | None:
    """The trace context of the code running now (in an Update handler: the request's)."""
    interceptor = TracingWorkflowInboundInterceptor._from_context()
    if interceptor is None:
        return None
    carrier: Carrier = {}
    interceptor.text_map_propagator.inject(carrier)
    return carrier or None


@contextmanager
def continuing(carrier: Carrier | None) -> Iterator[None]:
    """Runs the block in the trace of ``carrier`` (from ``current()`` in an Update handler):
    activities and child workflows started inside become part of the request's trace."""
    interceptor = TracingWorkflowInboundInterceptor._from_context()
    if not carrier or interceptor is None:
        yield
        return
    context = interceptor._set_on_context(interceptor.text_map_propagator.extract(carrier))
    with attached_context(context):
        yield
