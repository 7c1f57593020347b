"""The ports the on-the-fly stacks bind: never one the kernel may hand to someone else meanwhile."""

from __future__ import annotations

import socket

import pytest

from api.cli import ports
from api.cli.ports import free_port


def test_ports_come_from_outside_the_ephemeral_range_and_never_twice() -> None:
    low, high = ports._ephemeral_range()
    picked = [free_port() for _ in range(200)]
    assert len(set(picked)) == len(picked)
    assert not [port for port in picked if low <= port <= high]


def test_a_port_in_use_is_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = ports._candidates()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        # Force the first draw onto a port that is in use, then onto the lowest candidates.
        draws = iter([busy - first, *range(100)])
        monkeypatch.setattr(ports.secrets, "randbelow", lambda _n: next(draws))
        port = free_port()
    assert port != busy and port >= first
