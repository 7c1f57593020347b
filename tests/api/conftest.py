"""One CRA site per session on the real dev server: stack, worker, API on a real uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.api.site import Site, running_site
from tests.support import stack


@pytest.fixture(scope="session")
async def site(tmp_path_factory: pytest.TempPathFactory, dev_env: WorkflowEnvironment
               ) -> AsyncIterator[Site]:
    async with (stack(tmp_path_factory.mktemp("cra-site")) as s,
                running_site(s, dev_env.client, rate_limit_per_token=200,
                             rate_limit_per_client=2000) as running):
        yield running


# ------------------------------------------------- a real OpenID provider (from PyPI)


@pytest.fixture(scope="session")
def issuer() -> Iterator[str]:
    """``oidc-provider-mock`` on a free port, nonce required; its issuer is the request host,
    hence ``localhost`` (not 127.0.0.1) everywhere. Imported here: Flask and Authlib cost every
    test process 0.4 s of CPU at collection, and only the agents' tests need them."""
    import oidc_provider_mock

    with oidc_provider_mock.run_server_in_thread(port=0, require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"
