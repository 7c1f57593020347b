"""``ptce platform check`` against the platform stand-in (real HTTP), and the worker's start-up
check: the demo mapping passes; a wrong champ id, a wrong annotation id or an instructeur
missing from a groupe fails, naming the field."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from api.cli.main import app
from api.cli.platform_check import check_before_start
from core.mapping import DEMO_DEMARCHE_FILE
from core.settings import PlatformSettings, Settings, get_settings
from standins.platform import DEFAULT_INSTRUCTEUR_ID, create_app
from tests.api.site import free_port, serve

TOKEN = "jeton-de-la-verification"


@dataclass
class Served:
    url: str
    admin: httpx.AsyncClient


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Served]:
    port = free_port()
    async with (serve(create_app(tmp_path / "platform.db", TOKEN, DEFAULT_INSTRUCTEUR_ID), port),
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as admin):
        yield Served(f"http://127.0.0.1:{port}/api/v2/graphql", admin)


async def check(monkeypatch: pytest.MonkeyPatch, served: Served, **env: str) -> Result:
    monkeypatch.setenv("PTCE_PLATFORM__GRAPHQL_URL", served.url)
    monkeypatch.setenv("PTCE_PLATFORM__TOKEN", TOKEN)
    for name, value in env.items():
        monkeypatch.setenv(f"PTCE_PLATFORM__{name.upper()}", value)
    get_settings.cache_clear()
    try:  # the command runs its own event loop
        return await asyncio.to_thread(CliRunner().invoke, app, ["platform", "check"])
    finally:
        get_settings.cache_clear()


def mapping_with(tmp_path: Path, field: str, new_id: str) -> Path:
    data = json.loads(DEMO_DEMARCHE_FILE.read_text())
    for champ in data["champs"]:
        if champ["field"] == field:
            champ["id"] = new_id
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(data, ensure_ascii=False))
    return path


async def test_the_demo_mapping_passes(monkeypatch: pytest.MonkeyPatch, platform: Served) -> None:
    result = await check(monkeypatch, platform, token_expires_on="2099-12-31")
    assert result.exit_code == 0, result.output
    assert "Vérification réussie" in result.output
    assert "les 26 champs" in result.output and "3 groupes instructeurs" in result.output
    assert "le jeton permet l’écriture" in result.output


async def test_a_wrong_champ_id_fails_naming_the_field(
        monkeypatch: pytest.MonkeyPatch, platform: Served, tmp_path: Path) -> None:
    mapping = mapping_with(tmp_path, "project_name", "Q2hhbXAtOTk5")  # Champ-999
    result = await check(monkeypatch, platform, mapping_file=str(mapping))
    assert result.exit_code == 1
    assert "ERREUR" in result.output and "champ project_name" in result.output
    assert "Q2hhbXAtOTk5" in result.output and "Vérification échouée : 1 erreur(s)" in result.output


async def test_a_wrong_annotation_id_fails_naming_the_setting(
        monkeypatch: pytest.MonkeyPatch, platform: Served) -> None:
    result = await check(monkeypatch, platform, annotation_opinions_id="Q2hhbXAtOTAx")
    assert result.exit_code == 1
    assert "PTCE_PLATFORM__ANNOTATION_OPINIONS_ID (Q2hhbXAtOTAx)" in result.output


async def test_an_instructeur_missing_from_a_groupe_fails_naming_the_groupe(
        monkeypatch: pytest.MonkeyPatch, platform: Served) -> None:
    r = await platform.admin.delete(f"/_standin/groupes/2/instructeurs/{DEFAULT_INSTRUCTEUR_ID}")
    r.raise_for_status()
    result = await check(monkeypatch, platform)
    assert result.exit_code == 1
    assert "n’est pas dans le groupe instructeur n° 2 « Bretagne et Pays de la Loire »" in result.output


async def test_a_read_only_or_expired_token_fails(monkeypatch: pytest.MonkeyPatch,
                                                  platform: Served) -> None:
    (await platform.admin.post("/_standin/tokens", json={"token": TOKEN, "write_access": False})
     ).raise_for_status()
    result = await check(monkeypatch, platform, token_expires_on="2020-01-01")
    assert result.exit_code == 1
    assert "lecture seule" in result.output and "a expiré le 01/01/2020" in result.output


async def test_the_worker_refuses_to_start_on_a_mismatch_and_dev_does_not_check(
        platform: Served) -> None:
    wrong = Settings(environment="test", platform=PlatformSettings(
        graphql_url=platform.url, token=TOKEN, annotation_stage_id="Q2hhbXAtOTAy",  # type: ignore[arg-type]
        check_at_start=True))
    with pytest.raises(SystemExit, match="platform check failed"):
        await check_before_start(wrong)
    # dev and test environments do not check unless asked (here: an unreachable platform)
    await check_before_start(Settings(environment="dev", platform=PlatformSettings(
        graphql_url="http://127.0.0.1:9/api/v2/graphql")))
