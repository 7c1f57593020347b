"""A retried request is applied once: the same agent decision posted twice with one
``Idempotency-Key`` is one decision and one notification; a form posted twice (its token) is
one admissibility; an admin correction retried with its key is one correction."""

from __future__ import annotations

import httpx
from starlette.responses import Response
from temporalio.testing import WorkflowEnvironment

from api.admin.desk import AdminDesk
from api.app import create_app
from api.auth.roles import Role
from api.auth.session import AgentSession, Cookies, Source, new_sid
from core.db.repositories import AgentRoleRepository
from core.domain.admin import ReferentCorrection
from core.domain.procedure import Stage
from core.ids import dossier_workflow_id
from core.settings import AgentPageSettings, Settings
from tests.support import Stack
from tests.workflows.helpers import start_dossier, wait_for, wait_for_stage
from tests.workflows.recording import record_history
from tests.workflows.test_admin_amendments import ADMIN
from workflows.dossier import DossierWorkflow


def _cookie(settings: Settings) -> str:
    response = Response()
    Cookies(settings).write_session(response, AgentSession(
        sid=new_sid(), sub="agent-1", email="agent-1@finances.gouv.fr", name="Agent",
        role=Role.AGENT, source=Source.OIDC, csrf="csrf"))
    return response.headers["set-cookie"].split(";")[0].split("=", 1)[1]


async def test_a_decision_posted_twice_with_one_key_is_applied_once(
        dev_env: WorkflowEnvironment, dev_stack: Stack) -> None:
    client = dev_env.client
    number = await dev_stack.file(0)
    settings = dev_stack.settings.model_copy(update={
        "agents": AgentPageSettings(session_secret="idempotency-secret")})  # type: ignore[arg-type]
    async with dev_stack.res.db.unit_of_work() as session:
        await AgentRoleRepository(session).put("agent-1", "agent", "test")
    app = create_app(settings, temporal=client, db=dev_stack.res.db)
    async with dev_stack.worker(client) as worker, httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api.test") as http:
        handle = await start_dossier(client, number, worker.task_queue)
        await wait_for_stage(handle, Stage.ADMISSIBILITY)
        http.cookies.set("ptce_agent", _cookie(settings))

        # The admissibility form, submitted twice (a double click): its token makes it one.
        form = {"csrf_token": "csrf", "idempotency_key": "form-token-1", "admissible": "oui",
                "reason": "Dossier complet."}
        for _ in range(2):
            r = await http.post(f"/agents/dossiers/{number}/recevabilite", data=form)
            assert r.status_code == 303, r.text
        await wait_for_stage(handle, Stage.INSTRUCTION)

        # An admin's correction retried with its key: one correction.
        desk = AdminDesk(client, dev_stack.res.db, key="admin-retry-1")
        for _ in range(2):
            await desk.correct_referent_email(number, ReferentCorrection(
                agent=ADMIN, reason="Adresse indiquée par téléphone.",
                referent_email="nouvelle.referente@example.org"))

        # The decision, sent twice with one key (the answer to the first was lost).
        body = {"outcome": "laureat", "motivation": "Projet solide.",
                "override_reason": "Comité réuni en urgence."}
        headers = {"X-CSRF-Token": "csrf", "Idempotency-Key": "decision-7f3a"}
        first = await http.post(f"/api/dossiers/{number}/decision", json=body, headers=headers)
        assert first.status_code == 200, first.text
        again = await http.post(f"/api/dossiers/{number}/decision", json=body, headers=headers)
        assert again.status_code == 200, again.text  # not "already decided": it was this one
        bad = await http.post(f"/api/dossiers/{number}/decision", json=body,
                              headers={**headers, "Idempotency-Key": "with space"})
        assert bad.status_code == 422
        await handle.result()
        status = await handle.query(DossierWorkflow.status)
        await record_history(client, "idempotent-requests-referent", dossier_workflow_id(number))

    whats = [s.what for s in status.steps]
    assert whats.count("Recevabilité : recevable") == 1
    assert sum(w.startswith("Courriel du référent corrigé") for w in whats) == 1
    assert sum(w.startswith("Décision : ") for w in whats) == 1
    assert (await dev_stack.mutations(number)).count("dossierAccepter") == 1
    assert len(await dev_stack.emails(subject="Décision sur votre candidature")) == 1


async def test_a_retry_after_a_reset_is_not_applied_again(
        dev_env: WorkflowEnvironment, dev_stack: Stack) -> None:
    """The workflow remembers the ids it applied, whatever Temporal still remembers: after a
    reset the new run rebuilt from the re-applied Update answers the retry, applies nothing."""
    from api.admin.reset import plan_reset
    from api.admin.reset_apply import execute_reset
    from tests.workflows.helpers import admissible

    client = dev_env.client
    number = await dev_stack.file(0)
    async with dev_stack.worker(client) as worker:
        handle = await start_dossier(client, number, worker.task_queue)
        await wait_for_stage(handle, Stage.ADMISSIBILITY)
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible(),
                                    id="confirm_admissibility:k-1")
        await wait_for_stage(handle, Stage.INSTRUCTION)
        plan = await plan_reset(client, dossier_workflow_id(number), Stage.ADMISSIBILITY)
        run = (await execute_reset(client, plan, "test", "ci")).run_id
        reset = client.get_workflow_handle_for(DossierWorkflow.run, handle.id, run_id=run)
        await wait_for(reset, lambda s: s.stage is Stage.INSTRUCTION)
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible(),
                                    id="confirm_admissibility:k-1")
        status = await handle.query(DossierWorkflow.status)
        await handle.terminate("test over")
    assert [s.what for s in status.steps].count("Recevabilité : recevable") == 1
