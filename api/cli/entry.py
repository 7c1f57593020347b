"""The ``ptce`` process's first module: the command's modules load with the collector off and
are then frozen (core/startup.py), before the command runs."""

from __future__ import annotations

from core.startup import loading


def main() -> None:
    with loading():
        from api.cli.main import main as ptce
    ptce()
