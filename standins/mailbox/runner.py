"""Run the SMTP sink and the web mailbox side by side in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from standins.mailbox.smtp import start_smtp_server
from standins.mailbox.store import MailStore
from standins.mailbox.web import create_web_app

logger = logging.getLogger(__name__)

_SHUTDOWN_TIMEOUT_SECONDS = 5.0


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signals to whoever owns the event loop.

    Stock uvicorn swaps the SIGINT/SIGTERM handlers while serving and re-raises them on
    exit; embedded next to the SMTP server we want one way to stop: task cancellation.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class RunningMailbox:
    smtp_server: asyncio.Server
    web_server: uvicorn.Server
    web_task: asyncio.Task[None]
    smtp_port: int
    web_port: int

    async def wait(self) -> None:
        """Until the web server stops on its own; shielded so cancelling us does not kill it."""
        await asyncio.shield(self.web_task)

    async def close(self) -> None:
        self.web_server.should_exit = True
        self.smtp_server.close()
        close_clients = getattr(self.smtp_server, "close_clients", None)  # Python 3.13+
        if close_clients is not None:
            close_clients()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.smtp_server.wait_closed(), _SHUTDOWN_TIMEOUT_SECONDS)
        await self.web_task


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)


async def _start_web(
    host: str, port: int, db_path: Path
) -> tuple[uvicorn.Server, asyncio.Task[None], int]:
    web_socket = _listen(host, port)
    bound_port: int = web_socket.getsockname()[1]
    config = uvicorn.Config(
        create_web_app(db_path),
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=int(_SHUTDOWN_TIMEOUT_SECONDS),
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[web_socket]))
    while not server.started:
        if task.done():
            await task  # re-raises the startup error, if any
            raise RuntimeError("the mailbox web server stopped during startup")
        await asyncio.sleep(0.01)
    return server, task, bound_port


async def start_mailbox(
    smtp_host: str, smtp_port: int, web_host: str, web_port: int, db_path: Path
) -> RunningMailbox:
    """Start both servers and return once they accept connections; port 0 picks a free one."""
    store = MailStore(db_path)
    smtp_server = await start_smtp_server(store, smtp_host, smtp_port)
    try:
        web_server, web_task, web_port = await _start_web(web_host, web_port, db_path)
    except BaseException:
        smtp_server.close()  # release the SMTP port before surfacing the failure
        raise
    running = RunningMailbox(
        smtp_server=smtp_server,
        web_server=web_server,
        web_task=web_task,
        smtp_port=smtp_server.sockets[0].getsockname()[1],
        web_port=web_port,
    )
    logger.info(
        "mailbox ready: SMTP on %s:%s, web on http://%s:%s/, store %s",
        smtp_host,
        running.smtp_port,
        web_host,
        running.web_port,
        db_path,
    )
    return running


async def run_mailbox(
    smtp_host: str, smtp_port: int, web_host: str, web_port: int, db_path: Path
) -> None:
    """Serve SMTP and the web mailbox until cancelled."""
    running = await start_mailbox(smtp_host, smtp_port, web_host, web_port, db_path)
    try:
        await running.wait()
    finally:
        await running.close()


async def _run_until_terminated(
    smtp_host: str, smtp_port: int, web_host: str, web_port: int, db_path: Path
) -> None:
    task = asyncio.create_task(run_mailbox(smtp_host, smtp_port, web_host, web_port, db_path))
    with contextlib.suppress(NotImplementedError):  # no add_signal_handler on Windows
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def serve(
    smtp_host: str = "127.0.0.1",
    smtp_port: int = 1025,
    web_host: str = "127.0.0.1",
    web_port: int = 8025,
    db_path: Path = Path("var/mailbox.sqlite3"),
) -> None:
    """Blocking entry point; Ctrl-C or SIGTERM stops both servers cleanly."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run_until_terminated(smtp_host, smtp_port, web_host, web_port, db_path))
