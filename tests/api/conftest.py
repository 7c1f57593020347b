"""One CRA site per session on the real dev server: stack, worker, API on a real uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.api.issuer import LocalIssuer
from tests.api.site import Site, free_port, running_site, serve
from tests.support import stack


@pytest.fixture(scope="session")
async def site(tmp_path_factory: pytest.TempPathFactory, dev_env: WorkflowEnvironment
               ) -> AsyncIterator[Site]:
    async with (stack(tmp_path_factory.mktemp("cra-site")) as s,
                running_site(s, dev_env.client, rate_limit_per_token=200,
                             rate_limit_per_client=2000) as running):
        yield running


# ----------------------------------------------------------------- a local OpenID provider


@pytest.fixture(scope="session")
async def issuer() -> AsyncIterator[LocalIssuer]:
    """A tiny OpenID Connect provider on a real port, keys generated on the fly."""
    port = free_port()
    provider = LocalIssuer(f"http://127.0.0.1:{port}")
    async with serve(provider.app(), port):
        yield provider
