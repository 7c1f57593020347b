"""The stand-ins' command lines (``python -m standins NAME …``), from the service's settings: the
same for ``ptce standin …`` and for the embedded stack, which starts them directly (without a
``ptce`` process first: half a second less for each start)."""

from __future__ import annotations

import sys
from pathlib import Path

from core.settings import Settings


def platform_args(settings: Settings, port: int, db: Path | None = None,
                  forward_emails: bool = False) -> list[str]:
    return ["platform", "--port", str(port),
            "--db", str(db or settings.var_dir / "platform.db"),
            "--instructeur-id", settings.platform.instructeur_id,
            *(["--forward-emails"] if forward_emails else [])]


def mailbox_args(settings: Settings, web_port: int, db: Path | None = None) -> list[str]:
    return ["mailbox", "--smtp-host", settings.smtp.host, "--smtp-port", str(settings.smtp.port),
            "--web-port", str(web_port), "--db", str(db or settings.var_dir / "mailbox.db")]


def command(args: list[str]) -> list[str]:
    """The stand-in's process: this interpreter, its entry point, its options."""
    return [sys.executable, "-m", "standins", *args]
