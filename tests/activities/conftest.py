"""Fixtures for activity tests: a fresh platform stand-in per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.activities.standin import StandIn


@pytest.fixture
async def standin(tmp_path: Path) -> AsyncIterator[StandIn]:
    platform = StandIn.create(tmp_path / "platform.db")
    try:
        yield platform
    finally:
        await platform.aclose()
