"""Temporal as an attacker who reaches its frontend sees it, on a real dev server.

- A production worker refuses plaintext payloads: an Update or a signal sent without the codec
  key (``submit_opinion`` in someone's name) is rejected or dropped, and the workflow goes on.
- A worker with foreign codec keys refuses to start before it polls a task, naming
  ``PTCE_CODEC__KEYS``; the running dossiers go on with the cluster's workers.
- An SMTP refusal quoting the recipient's address leaves no address in the history, neither
  in clear nor inside the encrypted failure.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import pytest
from temporalio.api.history.v1 import History
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.admin import batch as batches
from api.admin.desk import AdminDesk
from api.admin.reset import plan_reset
from api.admin.reset_apply import execute_reset
from api.cli.membership import WorkerRefused, payloads_in
from api.cli.worker import build_worker, run_worker
from api.errors import Refused
from api.temporal import converter
from core.codec import ENCODING, KEY_ID, new_key
from core.db.repositories import CraMemberRepository
from core.domain.admin import MemberReplacement
from core.domain.cra import CraContact
from core.domain.procedure import Agent, Stage
from core.settings import CodecSettings, Settings
from tests.support import Stack
from tests.workflows.helpers import (
    admissible,
    consultation,
    opinion,
    start_dossier,
    wait_for,
    wait_for_stage,
)
from workflows.consultation import CraConsultationWorkflow
from workflows.dossier import DossierWorkflow
from workflows.payloads import CloseRequest

EMAIL_PATTERN = re.compile(rb"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def _production(settings: Settings, **codec: Any) -> Settings:
    """The stack's settings as a production worker holds them (the settings' own checks are
    tested elsewhere: here only what the worker does with them)."""
    keys = codec.pop("keys", settings.codec.keys)
    return settings.model_copy(update={
        "environment": "prod",
        # The platform check at start is the platform's (tested with it): here, the stand-in.
        "platform": settings.platform.model_copy(update={"check_at_start": False}),
        "codec": CodecSettings(keys=keys, allow_plaintext=False)})  # type: ignore[arg-type]


def _client(env: WorkflowEnvironment, settings: Settings | None) -> Client:
    """A client on the same connection: with the settings' codec, or none at all (plaintext)."""
    base = env.client
    data_converter = converter(settings.codec) if settings else pydantic_data_converter
    return Client(base.service_client, namespace=base.namespace, data_converter=data_converter)


async def test_a_production_worker_refuses_plaintext_updates_and_signals(
        dev_env: WorkflowEnvironment, dev_stack: Stack) -> None:
    production = _production(dev_stack.settings)
    legit, attacker = _client(dev_env, production), _client(dev_env, None)
    number = await dev_stack.file(0)
    queue = f"tq-{uuid.uuid4()}"
    async with build_worker(legit, production, dev_stack.res, task_queue=queue):
        handle = await start_dossier(legit, number, queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and s.consultations)
        cra = consultation(legit, number, "53")

        # Without the key: an opinion in a member's name, a close, BESSII's admissibility.
        forged = attacker.get_workflow_handle(cra.id)
        with pytest.raises(WorkflowUpdateFailedError):
            await forged.execute_update("submit_opinion", opinion("cra-53-ess"))
        await forged.signal("close")  # bare: nothing to refuse, ignored by the workflow
        await forged.signal("close", CloseRequest())  # a plaintext payload: dropped
        with pytest.raises(WorkflowUpdateFailedError):
            await attacker.get_workflow_handle(handle.id).execute_update(
                "confirm_admissibility", admissible())
        state = await cra.query(CraConsultationWorkflow.consultation)
        assert state.opinion is None and state.status.value == "pending"
        assert (await handle.query(DossierWorkflow.status)).admissibility is None

        # The workflows go on: the same actions with the key are applied.
        await cra.execute_update("submit_opinion", opinion("cra-53-ess"))
        state = await cra.query(CraConsultationWorkflow.consultation)
        assert state.opinion is not None and state.opinion.written_by == "cra-53-ess"
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await wait_for_stage(handle, Stage.INSTRUCTION)
    # Ended, so that no replay of the shared server's running executions takes them: the
    # plaintext signal their production worker dropped would be read by a replayer that
    # accepts plaintext (dev and test do), which then takes another path.
    await cra.terminate("test over")
    await handle.terminate("test over")


async def _key_ids(client: Client, workflow_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for workflow_id in workflow_ids:
        async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
            found |= {p.metadata[KEY_ID].decode() for p in payloads_in(event)
                      if p.metadata.get("encoding") == ENCODING}
    return found


async def test_a_worker_with_foreign_codec_keys_is_refused_before_it_takes_a_task(
        dev_env: WorkflowEnvironment, dev_stack: Stack) -> None:
    address = dev_env.client.service_client.config.target_host
    number = await dev_stack.file(0)
    async with dev_stack.worker(dev_env.client) as cluster_worker:
        queue = cluster_worker.task_queue
        handle = await start_dossier(dev_env.client, number, queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and s.consultations)
        base = dev_stack.settings.model_copy(update={"temporal": dev_stack.settings.temporal.model_copy(
            update={"address": address, "task_queue": queue})})

        for keys, named in ([f"k9:{new_key()}"], "lacks key id 'dev'"), (
                [f"dev:{new_key()}"], "key 'dev' does not decrypt"):
            newcomer = _production(base, keys=keys)
            with pytest.raises(WorkerRefused, match="PTCE_CODEC__KEYS") as refused:
                await asyncio.wait_for(run_worker(newcomer), timeout=60)
            assert named in str(refused.value)

        # The cluster's keys pass the same check (and a worker with them would start).
        from api.cli.membership import key_report

        report = await key_report(dev_env.client, base)
        assert report is not None and report.opened == {"dev"} and not report.problems()

        # Nothing was written with the foreign keys; the dossier goes on.
        ids = [handle.id, consultation(dev_env.client, number, "53").id]
        assert await _key_ids(dev_env.client, ids) == {"dev"}
        await handle.execute_update(DossierWorkflow.confirm_admissibility, admissible())
        await wait_for_stage(handle, Stage.INSTRUCTION)


async def test_no_email_address_in_any_failure_of_a_recorded_history(
        dev_env: WorkflowEnvironment, dev_stack: Stack) -> None:
    """The relay refuses a CRA member's address, quoting it (as Postfix does): the invitation's
    failure, recorded in the consultation's history, names no one."""
    refused = "ess.53@cra.localhost"  # the Bretagne ESS correspondent of the directory
    r = await dev_stack.mailbox.post("/api/faults", json={"reject_count": 0,
                                                          "refused_recipients": [refused]})
    r.raise_for_status()
    number = await dev_stack.file(0)
    client = dev_env.client
    try:
        async with dev_stack.worker(client) as worker:
            await start_dossier(client, number, worker.task_queue)
            cra = consultation(client, number, "53")
            failed = None
            for _ in range(300):
                try:
                    history = await cra.fetch_history()
                except RPCError:  # not started yet
                    await asyncio.sleep(0.1)
                    continue
                failed = next((e for e in history.events
                               if e.HasField("activity_task_failed_event_attributes")), None)
                if failed is not None:
                    break
                await asyncio.sleep(0.1)
            assert failed is not None, "the refused invitation never failed"
    finally:
        await dev_stack.mailbox.post("/api/faults", json={"reject_count": 0})
    failure = failed.activity_task_failed_event_attributes.failure
    raw = History(events=history.events).SerializeToString()
    assert refused.encode() not in raw
    assert failure.message == "Encoded failure"  # message and stack trace are encrypted
    decoded = await client.data_converter.decode_failure(failure)
    assert "SMTP relay refused the message" in str(decoded) and "550" in str(decoded)
    # Decrypted, the failure and its whole chain still name no address.
    chain: list[str] = []
    current: BaseException | None = decoded
    while current is not None:
        chain.append(str(current))
        current = current.__cause__
    assert not any(EMAIL_PATTERN.search(text.encode()) for text in chain)
    assert not EMAIL_PATTERN.search(failure.stack_trace.encode())


async def _reset_point(client: Client, workflow_id: str, stage: Stage) -> Any:
    for _ in range(100):
        try:
            return await plan_reset(client, workflow_id, stage)
        except Refused:
            await asyncio.sleep(0.05)
    raise AssertionError(f"no reset point for {stage}")


async def test_terminate_and_reset_reasons_name_no_one(
        dev_env: WorkflowEnvironment, dev_stack: Stack) -> None:
    """The admin's words may name people; the history keeps them redacted, and the admin never
    (a pseudonym where an identity is recorded; the whole reason and who: ``admin_actions``)."""
    client = dev_env.client
    reason = "Demande de jean.dupont@exemple.fr (06 12 34 56 78)"
    admin = "chef.bureau@finances.gouv.fr"
    n = await dev_stack.file(0)
    async with dev_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and s.consultations)
        plan = await _reset_point(client, handle.id, Stage.ADMISSIBILITY)
        new_run = (await execute_reset(client, plan, reason, admin)).run_id
        await batches.terminate(client, reason)(consultation(client, n, "53").id)
        await batches.terminate(client, reason)(handle.id)
    histories = [await client.get_workflow_handle(handle.id, run_id=run).fetch_history()
                 for run in (plan.run_id, new_run)]
    histories.append(await consultation(client, n, "53").fetch_history())
    texts: list[bytes] = []
    for history in histories:
        for event in history.events:
            for name in ("workflow_execution_terminated_event_attributes",
                         "workflow_task_failed_event_attributes"):
                if event.HasField(name):
                    attributes = getattr(event, name)
                    texts += [attributes.reason.encode() if hasattr(attributes, "reason") else b"",
                              attributes.identity.encode(),
                              attributes.failure.message.encode()
                              if hasattr(attributes, "failure") else b""]
    joined = b"\n".join(texts)
    assert b"ptce admin: Demande de [redacted] ([redacted])" in joined  # it is there, redacted
    assert not EMAIL_PATTERN.search(joined) and b"06 12 34 56 78" not in joined


async def test_a_refused_member_replacement_leaves_the_directory_as_it_was(
        dev_env: WorkflowEnvironment, dev_stack: Stack) -> None:
    client = dev_env.client
    n = await dev_stack.file(0)
    async with dev_stack.res.db.unit_of_work() as session:
        before = (await CraMemberRepository(session).get("cra-53-cress"))
        assert before is not None
        kept = (before.name, before.email, before.active)
    desk = AdminDesk(client, dev_stack.res.db)
    async with dev_stack.worker(client) as worker:
        handle = await start_dossier(client, n, worker.task_queue)
        await wait_for(handle, lambda s: s.stage is Stage.ADMISSIBILITY and s.consultations)
        # Already a member of this consultation: the workflow refuses; nothing is written,
        # not even over the existing directory entry.
        rewritten = CraContact(id="cra-53-cress", region="53", name="Usurpé",
                               email="usurpe@exemple.fr", role="CRESS")
        with pytest.raises(Refused):
            await desk.replace_member(n, "53", MemberReplacement(
                agent=Agent(id="admin-1", name="Admin"), reason="erreur",
                old_member_id="cra-53-ess", new_member=rewritten))
    async with dev_stack.res.db.unit_of_work() as session:
        after = await CraMemberRepository(session).get("cra-53-cress")
        ess = await CraMemberRepository(session).get("cra-53-ess")
        assert after is not None and (after.name, after.email, after.active) == kept
        assert ess is not None and ess.active  # the member to replace was not revoked
