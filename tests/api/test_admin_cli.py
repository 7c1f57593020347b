"""`ptce admin`: refused without the admin role; `replay` reports non-determinism."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli.main import app
from core.db.migrate import upgrade_to_head
from core.settings import get_settings
from tests.workflows.recording import HISTORIES

ADMIN = "ada.admin@finances.gouv.fr"


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PTCE_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PTCE_DATABASE_URL", raising=False)
    monkeypatch.setenv("PTCE_AGENTS__BOOTSTRAP_ADMINS", json.dumps([ADMIN]))
    get_settings.cache_clear()
    asyncio.run(upgrade_to_head(get_settings().effective_database_url))
    yield tmp_path
    get_settings.cache_clear()


@pytest.mark.parametrize("command", [
    ["stuck"], ["replay"], ["withdraw", "1", "--reason", "x"], ["skip", "1", "53", "--reason", "x"],
    ["resend", "1", "53", "cra-53-ess", "--reason", "x"],
    ["deadline", "1", "53", "2030-01-01T00:00:00", "--reason", "x"],
    ["regions", "1", "53", "--reason", "x"],
    ["send-back", "1", "--to", "admissibility", "--reason", "x"],
    ["reset", "dossier-1", "--to-stage", "admissibility", "--reason", "x", "--yes"],
    ["retry-activity", "dossier-1", "--reason", "x"],
    ["resume", "1", "--action", "retry", "--reason", "x"],
    ["batch", "DossierStage = 'closed'", "--operation", "terminate", "--reason", "x", "--yes"],
])
def test_every_admin_command_refuses_a_caller_without_the_admin_role(
        var_dir: Path, command: list[str]) -> None:
    result = CliRunner().invoke(app, ["admin", *command, "--as", "agent@finances.gouv.fr"])
    assert result.exit_code == 2, result.output
    assert "rôle administrateur" in result.output


def _one_of_each_kind() -> list[str]:
    """A dossier's and a consultation's history of each release (and of the lean path), and the
    intake's: the command end to end on every vintage. The replay gate
    (tests/workflows/test_replay.py) replays every history; all of them again here cost 30 s."""
    chosen: dict[tuple[str, str, bool], Path] = {}
    for path in sorted(HISTORIES.rglob("*.json")):
        release = path.parent.name if path.parent != HISTORIES else path.name.split("-")[0]
        kind = "cra" if "-cra-" in path.name else path.stem.rsplit("-", 1)[-1]
        chosen.setdefault((release, kind, path.name.startswith("lean-")), path)
    return [str(path) for path in chosen.values()]


def test_replay_of_the_recorded_histories_passes(var_dir: Path) -> None:
    files = _one_of_each_kind()
    assert len(files) >= 11
    result = CliRunner().invoke(app, ["admin", "replay", *files, "--as", ADMIN])
    assert result.exit_code == 0, result.output
    assert f"{len(files)} rejoué(s), 0 non déterministe(s)." in result.output


def test_replay_reports_a_history_the_code_no_longer_matches(var_dir: Path) -> None:
    original = HISTORIES / "v0.1.0-laureate-dossier.json"
    history = json.loads(original.read_text())
    for event in history["events"]:  # an activity the code does not schedule at that point
        attrs = event.get("activityTaskScheduledEventAttributes")
        if attrs:
            attrs["activityType"]["name"] = "send_fax"
            break
    tampered = var_dir / "tampered-dossier.json"
    tampered.write_text(json.dumps(history))

    result = CliRunner().invoke(app, ["admin", "replay", str(original), str(tampered),
                                      "--as", ADMIN])
    assert result.exit_code == 1, result.output
    assert "tampered-dossier: ÉCHEC" in result.output
    assert "nondetermin" in result.output.lower()
    assert "2 rejoué(s), 1 non déterministe(s)." in result.output


def test_a_bad_region_is_refused_in_french_before_anything_is_sent(var_dir: Path) -> None:
    result = CliRunner().invoke(app, ["admin", "regions", "1", "Atlantide", "--reason", "x",
                                      "--as", ADMIN])
    assert result.exit_code == 1, result.output
    assert "région inconnue : 'Atlantide'" in result.output
    assert "rien n’a été modifié" in result.output
    result = CliRunner().invoke(app, ["admin", "regions", "1", "53", "--territory", "zfu",
                                      "--reason", "x", "--as", ADMIN])
    assert result.exit_code == 1 and "territoire inconnu : zfu" in result.output
