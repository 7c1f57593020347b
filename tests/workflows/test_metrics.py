"""Metrics: the worker's Prometheus endpoint serves the SDK's metrics and the business metrics
(reminders, CRA answer delay, decisions by outcome); the API's /metrics the dossiers by stage."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.cli.ports import free_port
from api.temporal import metrics_runtime
from core.domain.policy import Policy
from core.domain.procedure import Outcome, Stage
from core.ids import dossier_workflow_id
from core.settings import TelemetrySettings
from tests.support import CONVERTER, Stack
from tests.workflows.helpers import admissible, consultation, decision, opinion, wait_for
from workflows.dossier import DossierWorkflow
from workflows.payloads import DossierInput

QUICK = Policy(cra_deadline=timedelta(minutes=5), cra_reminders=[timedelta(seconds=1)],
               cra_final_reminder_before=timedelta(0))




async def _scrape_until(url: str, done: Callable[[str], bool], timeout: float = 20.0) -> str:
    text = ""
    async with httpx.AsyncClient() as http:
        for _ in range(int(timeout / 0.2)):
            try:
                text = (await http.get(url)).text
            except httpx.TransportError:
                text = ""
            if done(text):
                return text
            await asyncio.sleep(0.2)
    raise AssertionError(f"metrics never settled:\n{text}")


async def test_business_metrics_are_scraped(dev_env: WorkflowEnvironment, dev_stack: Stack) -> None:
    port = free_port()
    runtime = metrics_runtime(TelemetrySettings(metrics_bind_address=f"127.0.0.1:{port}"))
    client = await Client.connect(dev_env.client.service_client.config.target_host,
                                  namespace=dev_env.client.namespace, data_converter=CONVERTER,
                                  runtime=runtime)
    number = await dev_stack.file(0)  # Bretagne: one CRA
    async with dev_stack.worker(client) as worker:
        handle = await client.start_workflow(
            DossierWorkflow.run, DossierInput(number=number, demarche=1001, policy=QUICK),
            id=dossier_workflow_id(number), task_queue=worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and s.consultations)
        url = f"http://127.0.0.1:{port}/metrics"
        await _scrape_until(url, lambda t: 'template="cra_reminder"' in t)  # after one second
        await consultation(client, number, "53").execute_update(
            "submit_opinion", opinion("cra-53-cress"))
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await wait_for(handle, lambda s: s.stage is Stage.INSTRUCTION
                       and all(c.opinion for c in s.consultations))
        await handle.execute_update(DossierWorkflow.record_decision,
                                    decision(Outcome.LAUREAT, "Projet retenu."))
        await handle.result()

        text = await _scrape_until(url, lambda t: 'outcome="laureat"' in t
                                   and "ptce_cra_answer_delay_days_bucket" in t)
    lines = text.splitlines()
    assert any(line.startswith("ptce_reminders_sent_total{") and 'template="cra_reminder"' in line
               for line in lines)
    assert any(line.startswith("ptce_decisions_total{") and 'outcome="laureat"' in line
               for line in lines)
    assert any(line.startswith("ptce_cra_answer_delay_days_bucket{") and 'le="1"' in line
               and line.endswith(" 1") for line in lines), "one answer, within a day"
    assert any(line.startswith("ptce_dossiers_started_total") for line in lines)
    assert any(line.startswith("temporal_") for line in lines)  # the SDK's own metrics
    assert "@" not in text  # no email in labels

    # The API's /metrics: dossiers by stage, from Temporal's visibility.
    app = create_app(dev_stack.settings, temporal=client, db=dev_stack.res.db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://api.test") as http:
        for _ in range(50):
            r = await http.get("/metrics")
            closed = [line for line in r.text.splitlines()
                      if line.startswith('ptce_dossiers{stage="closed"}')]
            if closed and float(closed[0].split()[-1]) >= 1:
                break
            await asyncio.sleep(0.2)
        assert r.status_code == 200 and "ptce_visibility_up 1.0" in r.text
        assert closed and float(closed[0].split()[-1]) >= 1, r.text
        assert 'ptce_dossiers{stage="instruction"}' in r.text
