"""Personal data stays out of Temporal's history store: a dossier's raw history on a real dev
server holds no plaintext email, name or phone number, and the same payloads decode through the
API's codec endpoint for a signed-in agent, not for anyone else."""

from __future__ import annotations

import base64

import httpx
from google.protobuf import json_format
from starlette.responses import Response
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import History
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth.roles import Role
from api.auth.session import AgentSession, Cookies, Source, new_sid
from core.codec import ENCODING
from core.db.repositories import AgentRoleRepository
from core.domain.procedure import Stage
from core.settings import AgentPageSettings, Settings
from tests.support import Stack
from tests.workflows.helpers import start_dossier, wait_for_stage

EMAIL = "maelle.codec@broceliande-coopere.example"
SECRETS = [EMAIL.encode(), b"Le Goff", b"06 12 34 56 78"]
UI = "http://127.0.0.1:8233"


def _payloads(history: History) -> list[Payload]:
    """Every payload of the history, wherever it sits in the events."""
    found: list[Payload] = []

    def walk(message: object) -> None:
        if isinstance(message, Payload):
            found.append(message)
            return
        for field, value in message.ListFields():  # type: ignore[attr-defined]
            if field.message_type is None:
                continue
            if hasattr(value, "ListFields"):
                walk(value)
            else:  # repeated field or map
                for v in value.values() if hasattr(value, "values") else value:
                    walk(v)

    walk(history)
    return found


def _cookie(settings: Settings, sub: str) -> str:
    response = Response()
    Cookies(settings).write_session(response, AgentSession(sid=new_sid(),
        sub=sub, email=f"{sub}@finances.gouv.fr", name=sub, role=Role.AGENT, source=Source.OIDC,
        csrf="csrf"))
    return response.headers["set-cookie"].split(";")[0].split("=", 1)[1]


async def test_the_history_store_holds_no_plaintext_personal_data(
        dev_env: WorkflowEnvironment, dev_stack: Stack) -> None:
    client = dev_env.client
    number = await dev_stack.file(0, referent_email=EMAIL)
    async with dev_stack.worker(client) as worker:
        handle = await start_dossier(client, number, worker.task_queue)
        await wait_for_stage(handle, Stage.ADMISSIBILITY)  # snapshot fetched, CRA consulted

    # The raw history as the server stores it, read by a client without the codec.
    plain = Client(client.service_client, namespace=client.namespace,
                   data_converter=pydantic_data_converter)
    history = await plain.get_workflow_handle(handle.id).fetch_history()
    raw = History(events=history.events)
    stored = raw.SerializeToString()
    for secret in SECRETS:
        assert secret not in stored
    sealed = [p for p in _payloads(raw) if p.metadata.get("encoding") == ENCODING]
    assert sealed, "no encrypted payload in the history"
    # Not vacuous: the codec opens them and the referent's email is inside.
    opened = await client.data_converter.payload_codec.decode(sealed)  # type: ignore[union-attr]
    assert any(EMAIL.encode() in p.data for p in opened)

    # The same payloads through the API's codec endpoint, as the Temporal UI sends them.
    settings = dev_stack.settings.model_copy(update={
        "agents": AgentPageSettings(session_secret="codec-secret")})  # type: ignore[arg-type]
    async with dev_stack.res.db.unit_of_work() as session:
        await AgentRoleRepository(session).put("agent-1", "agent", "test")
    app = create_app(settings, temporal=client, db=dev_stack.res.db)
    body = {"payloads": [json_format.MessageToDict(p) for p in sealed]}
    headers = {"X-Namespace": client.namespace, "Origin": UI}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://api.test") as http:
        refused = await http.post("/codec/decode", json=body, headers=headers)
        assert refused.status_code == 401 and EMAIL not in refused.text
        http.cookies.set("ptce_agent", _cookie(settings, "someone-without-role"))
        assert (await http.post("/codec/decode", json=body, headers=headers)).status_code == 403

        http.cookies.set("ptce_agent", _cookie(settings, "agent-1"))
        r = await http.post("/codec/decode", json=body, headers=headers)
        assert r.status_code == 200, r.text
        assert r.headers["access-control-allow-origin"] == UI
        data = [base64.b64decode(p["data"]) for p in r.json()["payloads"]]
        assert any(EMAIL.encode() in d for d in data)
        assert all(p["metadata"]["encoding"] != base64.b64encode(ENCODING).decode()
                   for p in r.json()["payloads"])

        # encode then decode gives the payload back; encoding is for admins only (an encoded
        # payload is what the workers accept)
        assert (await http.post("/codec/encode", json=r.json(), headers=headers)).status_code == 403
        async with dev_stack.res.db.unit_of_work() as session:
            await AgentRoleRepository(session).put("admin-1", "admin", "test")
        http.cookies.set("ptce_agent", _cookie(settings, "admin-1"))
        r = await http.post("/codec/encode", json=r.json(), headers=headers)
        assert r.status_code == 200
        again = await http.post("/codec/decode", json=r.json(), headers=headers)
        assert [base64.b64decode(p["data"]) for p in again.json()["payloads"]] == data
