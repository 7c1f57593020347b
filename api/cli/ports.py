"""Free TCP ports for the stacks started on the fly (tests, the benchmark, the chaos runs).

A port the kernel hands out for ``bind(("127.0.0.1", 0))`` comes from its ephemeral range, the
range it also gives every outgoing connection and every other program's ``bind(0)`` (the Temporal
dev server picks its internal ports that way). Closed again so that a server can bind it later, it
can be taken in between: seen in the suite as uvicorn's ``address already in use`` on a port a
Temporal dev server started meanwhile had taken. The ports here come from **below** the
ephemeral range, which nothing hands out on its own; each is checked free when chosen, and never
handed out twice by one process.
"""

from __future__ import annotations

import secrets
import socket
from pathlib import Path

_EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LINUX_DEFAULT_EPHEMERAL = (32768, 60999)
_LOWEST = 10000  # above the well-known and most registered services' ports
_ATTEMPTS = 500

_handed_out: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = (int(part) for part in _EPHEMERAL_RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        return _LINUX_DEFAULT_EPHEMERAL
    return low, high


def _candidates() -> tuple[int, int]:
    """The ports to choose from: below the ephemeral range, or above it when it starts low."""
    low, high = _ephemeral_range()
    if low - _LOWEST >= 2000:
        return _LOWEST, low - 1
    return high + 1, 65535


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on ``host`` now, outside the kernel's ephemeral range."""
    first, last = _candidates()
    for _ in range(_ATTEMPTS):
        port = first + secrets.randbelow(last - first + 1)
        if port not in _handed_out and _bindable(host, port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free port on {host} between {first} and {last}")
