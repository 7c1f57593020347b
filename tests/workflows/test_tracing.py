"""One trace follows a dossier: the workflow start, the workflow, its activities, their platform
HTTP calls and SQL statements. An agent's HTTP request that updates the workflow is one trace
too: the API's span, the Temporal update, the workflow's handling of it and, for a decision, the
notification activities with their platform and SMTP calls; the dossier's trace links to it."""

from __future__ import annotations

import asyncio

import httpx
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind
from starlette.responses import Response
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth.roles import Role
from api.auth.session import AgentSession, Cookies, Source, new_sid
from api.temporal import interceptors
from core.db.repositories import AgentRoleRepository
from core.domain.procedure import Stage
from core.settings import AgentPageSettings, Settings
from tests.support import CONVERTER, Stack
from tests.telemetry import span_exporter
from tests.workflows.helpers import (
    consultation,
    opinion,
    start_dossier,
    wait_for,
    wait_for_stage,
)
from workflows.consultation import CraConsultationWorkflow
from workflows.dossier import DossierWorkflow


def _cookie(settings: Settings) -> str:
    response = Response()
    Cookies(settings).write_session(response, AgentSession(sid=new_sid(),
        sub="agent-1", email="agent-1@finances.gouv.fr", name="Agent", role=Role.AGENT,
        source=Source.OIDC, csrf="csrf"))
    return response.headers["set-cookie"].split(";")[0].split("=", 1)[1]


def _named(spans: list[ReadableSpan], prefix: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name.startswith(prefix)]


def _chain(spans: list[ReadableSpan], top: ReadableSpan, *names: str) -> None:
    """``names`` descend from ``top`` in this order (each a descendant of the previous one)."""
    by_id = {s.context.span_id: s for s in spans}  # type: ignore[union-attr]

    def ancestors(span: ReadableSpan) -> set[int]:
        found: set[int] = set()
        while span.parent is not None and span.parent.span_id in by_id:
            found.add(span.parent.span_id)
            span = by_id[span.parent.span_id]
        return found

    above = top
    for name in names:
        [span] = _named(spans, name)
        assert above.context.span_id in ancestors(span), f"{name} is not under {above.name}"  # type: ignore[union-attr]
        above = span


def _for(span: ReadableSpan, number: int) -> bool:
    """A server span of a request about this dossier (its path holds the number)."""
    attributes = dict(span.attributes or {})
    path = str(attributes.get("url.path", attributes.get("http.target", "")))
    return f"/api/dossiers/{number}/" in path


def _trace(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.trace_id


async def _settled(predicate: object, spans: object) -> None:
    for _ in range(50):  # the worker's spans end a moment after the query sees the state
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)


async def test_a_dossier_is_one_trace_and_an_agent_request_another_down_to_smtp(
        dev_env: WorkflowEnvironment, dev_stack: Stack) -> None:
    exporter = span_exporter()
    exporter.clear()  # the provider is the process's: spans of earlier tests are not ours
    client = Client(dev_env.client.service_client, namespace=dev_env.client.namespace,
                    data_converter=CONVERTER, interceptors=interceptors())
    number = await dev_stack.file(0)
    async with dev_stack.worker(client) as worker:
        handle = await start_dossier(client, number, worker.task_queue)
        await wait_for_stage(handle, Stage.ADMISSIBILITY)

        settings = dev_stack.settings.model_copy(update={
            "agents": AgentPageSettings(session_secret="trace-secret")})  # type: ignore[arg-type]
        async with dev_stack.res.db.unit_of_work() as session:
            await AgentRoleRepository(session).put("agent-1", "agent", "test")
        app = create_app(settings, temporal=client, db=dev_stack.res.db)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://api.test") as http:
            http.cookies.set("ptce_agent", _cookie(settings))
            r = await http.post(f"/api/dossiers/{number}/admissibility",
                                json={"admissible": True, "reason": "Dossier complet."},
                                headers={"X-CSRF-Token": "csrf"})
            assert r.status_code == 200, r.text
            await wait_for(handle, lambda s: s.admissibility is not None)
            for region in (await handle.query(DossierWorkflow.status)).dossier.regions:  # type: ignore[union-attr]
                await consultation(client, number, region).execute_update(
                    CraConsultationWorkflow.submit_opinion, opinion(f"cra-{region}-ess"))
            # The answer returns once its notice is sent: wait until the dossier has it.
            await wait_for(handle, lambda s: s.stage is Stage.INSTRUCTION
                           and all(c.opinion for c in s.consultations))
            r = await http.post(f"/api/dossiers/{number}/decision",
                                json={"outcome": "laureat", "motivation": "Projet solide."},
                                headers={"X-CSRF-Token": "csrf"})
            assert r.status_code == 200, r.text
        await handle.result()

        def handled() -> bool:
            names = {s.name for s in exporter.get_finished_spans()}
            return {"HandleUpdate:confirm_admissibility", "RunActivity:send_email",
                    "RunActivity:send_cra_link_email", "RunActivity:platform_decide"} <= names
        await _settled(handled, exporter)

    spans = list(exporter.get_finished_spans())
    [start] = [s for s in _named(spans, "StartWorkflow:DossierWorkflow")
               if s.attributes and s.attributes.get("temporalWorkflowID") == handle.id]
    dossier = _trace(start)
    in_dossier = [s for s in spans if _trace(s) == dossier]
    names = {s.name for s in in_dossier}
    assert "RunWorkflow:DossierWorkflow" in names
    [fetch] = _named(in_dossier, "RunActivity:platform_fetch_dossier")
    # The platform call is an HTTP client span under the activity that made it.
    calls = [s for s in in_dossier if s.kind is SpanKind.CLIENT and s.parent is not None
             and s.parent.span_id == fetch.context.span_id]  # type: ignore[union-attr]
    assert calls and all(s.attributes and "POST" in str(s.attributes.get("http.request.method",
                         s.attributes.get("http.method"))) for s in calls)
    assert _named(in_dossier, "RunActivity:store_snapshot")
    # The CRA invitations (the platform itself acknowledges the filing: no email of ours).
    [mail] = _named(in_dossier, "RunActivity:send_cra_link_email")[:1]
    assert [s for s in _named(in_dossier, "smtp send")
            if s.parent is not None and s.parent.span_id == mail.context.span_id]  # type: ignore[union-attr]
    sql = [s for s in in_dossier if s.attributes and s.attributes.get("db.system")]
    assert sql, "no SQL span in the dossier's trace"
    assert "RunWorkflow:CraConsultationWorkflow" in names  # the child is in the same trace

    # An agent's request: the API's server span, the Temporal update and the workflow's handling
    # of it are one trace, which the dossier's trace links to.
    [server] = [s for s in spans if s.kind is SpanKind.SERVER
                and "/api/dossiers/{number}/admissibility" in s.name and _for(s, number)]
    request = _trace(server)
    in_request = [s for s in spans if _trace(s) == request]
    assert _named(in_request, "StartWorkflowUpdate:confirm_admissibility")
    [handling] = _named(in_request, "HandleUpdate:confirm_admissibility")
    assert any(link.context.trace_id == dossier for link in handling.links)

    # The decision: one trace from the HTTP request through the workflow's handling to the
    # notification activities and their outgoing platform (HTTP) and SMTP calls.
    [server] = [s for s in spans if s.kind is SpanKind.SERVER
                and "/api/dossiers/{number}/decision" in s.name and _for(s, number)]
    decided = [s for s in spans if _trace(s) == _trace(server)]
    _chain(decided, server, "StartWorkflowUpdate:record_decision", "HandleUpdate:record_decision")
    [decide] = _named(decided, "RunActivity:platform_decide")
    assert [s for s in decided if s.kind is SpanKind.CLIENT and s.parent is not None
            and s.parent.span_id == decide.context.span_id]  # type: ignore[union-attr]
    mails = _named(decided, "RunActivity:send_email")
    assert len(mails) == 2  # the applicant, the consulted CRA
    assert [s for s in _named(decided, "smtp send") if s.parent is not None
            and s.parent.span_id in {m.context.span_id for m in mails}]  # type: ignore[union-attr]
    # No personal data and no token in span attributes.
    text = repr([dict(s.attributes or {}) for s in spans])
    assert "@" not in text.replace("agent-1@finances.gouv.fr", "")
