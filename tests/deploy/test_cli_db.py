"""`ptce db upgrade` / `ptce db current`: what the migrate service and operators run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli.main import app
from core.db.migrate import head_revision
from core.settings import get_settings


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PTCE_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PTCE_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_upgrade_then_current(var_dir: Path) -> None:
    runner = CliRunner()

    behind = runner.invoke(app, ["db", "current"])
    assert behind.exit_code == 1 and "none (empty database)" in behind.output

    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert (var_dir / "ptce.db").is_file()

    current = runner.invoke(app, ["db", "current"])
    assert current.exit_code == 0
    assert f"revision {head_revision()}, head {head_revision()}" in current.output

    again = runner.invoke(app, ["db", "upgrade"])
    assert again.exit_code == 0, again.output
