"""``ptce dev``: the whole embedded stack in one terminal, every child stopped by Ctrl-C.

Temporal dev server (SQLite under var/, search attributes registered, Web UI), the platform
stand-in, the SMTP sink with its mailbox page, the worker and the API. Everything persists under
``var/``: running it again keeps every workflow and record.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from temporalio.service import RPCError

from api.cli import standins
from api.cli.binaries import temporal_cli
from api.routes.codec import PREFIX as CODEC_PREFIX
from core.settings import Settings
from workflows import search_attributes


@dataclass
class Child:
    name: str
    args: list[str]
    port: int
    process: subprocess.Popen[bytes] | None = None


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host or "127.0.0.1", int(port)


def wait_for_port(host: str, port: int, child: Child, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process is not None and child.process.poll() is not None:
            raise RuntimeError(f"{child.name} exited with code {child.process.returncode}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{child.name} did not listen on {host}:{port} within {timeout:.0f}s")


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) != 0


def _namespace_flags(settings: Settings) -> list[str]:
    """The service's namespace, created at launch (with the search attributes) beside the dev
    server's ``default``; ``ptce dev`` then sets its retention (``ptce temporal setup``)."""
    namespace = settings.temporal.namespace
    return [] if namespace == "default" else ["--namespace", namespace]


def worker_names(workers: int) -> list[str]:
    return ["worker"] if workers == 1 else [f"worker-{i}" for i in range(1, workers + 1)]


# The dev server's SQLite file in write-ahead-log mode, synced at checkpoints rather than at every
# commit: what a transaction costs is an append (the default rollback journal writes each page
# twice and syncs the file each time). A crash of the server loses nothing (WAL); only a crash
# of the machine may lose its last transactions, acceptable for the embedded stack.
SQLITE_PRAGMAS = ("--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal")


def plan(settings: Settings, mailbox_web_port: int, platform_port: int,
         forward_platform_emails: bool = False, workers: int = 1) -> list[Child]:
    """``forward_platform_emails`` (``make run``): the platform stand-in's own emails to
    applicants land in the local mailbox too (the process tests count the service's alone).
    ``workers`` above one: ``worker-1`` … ``worker-N`` share the task queue, as in production."""
    var = settings.var_dir.resolve()
    t_host, t_port = _host_port(settings.temporal.address)
    ui_port = int(settings.temporal.ui_url.rsplit(":", 1)[1])
    py = [sys.executable, "-m", "api.cli"]
    return [
        Child("temporal", [str(temporal_cli()), "server", "start-dev", "--ip", t_host,
                           "--port", str(t_port), "--ui-port", str(ui_port),
                           "--db-filename", str(var / "temporal.db"), "--log-level", "warn",
                           *SQLITE_PRAGMAS,
                           # The UI decodes payloads through the API (agents signed in only).
                           "--ui-codec-endpoint",
                           settings.api.public_base_url.rstrip("/") + CODEC_PREFIX,
                           *_namespace_flags(settings),
                           *search_attributes.cli_flags()], t_port),
        Child("platform", standins.command(standins.platform_args(
            settings, platform_port, var / "platform.db", forward_platform_emails)),
              platform_port),
        Child("mailbox", standins.command(standins.mailbox_args(
            settings, mailbox_web_port, var / "mailbox.db")), mailbox_web_port),
        *(Child(name, [*py, "worker"], 0) for name in worker_names(workers)),
        Child("api", [*py, "api"], settings.api.port),
    ]


def run(settings: Settings, mailbox_web_port: int = 8025, platform_port: int = 8100) -> int:
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    children = plan(settings, mailbox_web_port, platform_port, forward_platform_emails=True)
    busy = [c for c in children if c.port and not _port_free("127.0.0.1", c.port)]
    if busy:
        names = ", ".join(f"{c.name} ({c.port})" for c in busy)
        print(f"Ports already in use: {names}. Is another `make run` running?", file=sys.stderr)
        return 1
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        for child in children:
            # Own process group: Ctrl-C reaches us only, and we stop children in order.
            child.process = subprocess.Popen(child.args, env=env, start_new_session=True)
            if child.port:
                wait_for_port("127.0.0.1", child.port, child)
            if child.name == "temporal":
                _setup_namespace(settings)
            if stopping:
                break
        if not stopping:
            _print_urls(settings, mailbox_web_port, platform_port)
        while not stopping:
            for child in children:
                if child.process is not None and child.process.poll() is not None:
                    print(f"{child.name} stopped (code {child.process.returncode}); "
                          "stopping everything.", file=sys.stderr)
                    stopping = True
            time.sleep(0.5)
    except RuntimeError as exc:
        print(f"Start failed: {exc}", file=sys.stderr)
    finally:
        terminate(children)
        print("All processes stopped. State is kept under var/.")
    return 0


def _setup_namespace(settings: Settings) -> None:
    """What ``ptce temporal setup`` does on a cluster: the retention of the service's namespace
    as configured, its search attributes (the dev server's own default is a day)."""
    from api.cli.temporal_setup import run_setup

    try:
        report = asyncio.run(run_setup(settings.temporal))
    except RPCError as exc:
        raise RuntimeError(f"temporal setup failed: {exc.message}") from exc
    for line in report.lines():
        print(line)


def terminate(children: list[Child]) -> None:
    for child in reversed(children):
        if child.process is not None and child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in reversed(children):
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()


def _print_urls(settings: Settings, mailbox_web_port: int, platform_port: int) -> None:
    lines = [
        "",
        "AMI PTCE – embedded stack is up:",
        f"  Temporal Web UI            {settings.temporal.ui_url.rstrip('/')}/namespaces/"
        f"{settings.temporal.namespace}/workflows",
        f"  Temporal gRPC              {settings.temporal.address}",
        f"  API (docs at /docs)        http://127.0.0.1:{settings.api.port}",
        f"  Mailbox (SMTP sink)        http://127.0.0.1:{mailbox_web_port}"
        f"  (SMTP {settings.smtp.host}:{settings.smtp.port})",
        f"  Platform stand-in          http://127.0.0.1:{platform_port}  (GraphQL at /api/v2/graphql)",
        f"  Data                       {Path(settings.var_dir).resolve()}",
        "File demo dossiers from another terminal: .venv/bin/ptce demo",
        "Ctrl-C stops everything.",
        "",
    ]
    print("\n".join(lines), flush=True)
