"""The embedded stack as separate processes on a block of ports, under one data directory.

``ptce dev`` runs it in the foreground with fixed ports; the chaos tests and the benchmark run
it on free ports in a temporary directory, and kill or restart one process (``kill -9`` of the
worker, a restart of the Temporal server) while the others keep going. Every child reads its
settings from the environment built here, so it runs exactly as ``make run`` would run it.
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from api.cli.dev import Child, plan, terminate, wait_for_port
from api.cli.ports import free_port
from core.settings import Settings


@dataclass(frozen=True)
class Ports:
    temporal: int
    ui: int
    api: int
    smtp: int
    mailbox_web: int
    platform: int

    @classmethod
    def free(cls) -> Ports:
        """Ports free now, outside the kernel's ephemeral range (api/cli/ports.py)."""
        return cls(*(free_port() for _ in range(6)))


@dataclass
class ProcessStack:
    var_dir: Path
    ports: Ports = field(default_factory=Ports.free)
    extra_env: dict[str, str] = field(default_factory=dict)
    log_dir: Path | None = None  # None: children inherit our stdout/stderr
    workers: int = 1  # worker processes on the one task queue
    children: dict[str, Child] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        p = self.ports
        own = {
            "PTCE_ENVIRONMENT": "dev",
            "PTCE_VAR_DIR": str(self.var_dir),
            "PTCE_TEMPORAL__ADDRESS": f"127.0.0.1:{p.temporal}",
            # The dev server's own namespace: the process tests' clients connect to it.
            "PTCE_TEMPORAL__NAMESPACE": "default",
            "PTCE_TEMPORAL__UI_URL": f"http://127.0.0.1:{p.ui}",
            "PTCE_API__PORT": str(p.api),
            "PTCE_API__PUBLIC_BASE_URL": f"http://127.0.0.1:{p.api}",
            "PTCE_SMTP__PORT": str(p.smtp),
            "PTCE_PLATFORM__GRAPHQL_URL": f"http://127.0.0.1:{p.platform}/api/v2/graphql",
            "PYTHONUNBUFFERED": "1",
        }
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("PTCE_")}
        return {**inherited, **own, **self.extra_env}

    def settings(self) -> Settings:
        """The settings every child reads (for the caller's own clients)."""
        saved = dict(os.environ)
        try:
            os.environ.clear()
            os.environ.update(self.env)
            return Settings()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    @property
    def base_urls(self) -> dict[str, str]:
        p = self.ports
        return {"api": f"http://127.0.0.1:{p.api}", "mailbox": f"http://127.0.0.1:{p.mailbox_web}",
                "platform": f"http://127.0.0.1:{p.platform}",
                "temporal": f"127.0.0.1:{p.temporal}", "ui": f"http://127.0.0.1:{p.ui}"}

    def start(self, *names: str) -> None:
        """Starts the named children (all, in dependency order, when none is named)."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        planned = {c.name: c for c in plan(self.settings(), self.ports.mailbox_web,
                                            self.ports.platform, workers=self.workers)}
        for name in names or tuple(planned):
            child = planned[name]
            self.children[name] = child
            out = self._log(name)
            try:
                child.process = subprocess.Popen(
                    child.args, env=self.env, start_new_session=True, stdout=out,
                    stderr=None if out is None else subprocess.STDOUT)
            finally:
                if out is not None:
                    os.close(out)
            if child.port:
                wait_for_port("127.0.0.1", child.port, child)

    def _log(self, name: str) -> int | None:
        if self.log_dir is None:
            return None
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return os.open(self.log_dir / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def pid(self, name: str) -> int:
        process = self.children[name].process
        assert process is not None, f"{name} was never started"
        return process.pid

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Signals the child's whole process group (``kill -9`` by default) and reaps it."""
        process = self.children[name].process
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def restart(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        self.kill(name, sig)
        self.start(name)

    def stop(self) -> None:
        terminate(list(self.children.values()))

    def __enter__(self) -> ProcessStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
