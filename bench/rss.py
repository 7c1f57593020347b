"""Peak resident memory of a process, sampled from ``/proc/<pid>/status`` (VmRSS)."""

from __future__ import annotations

import threading
from pathlib import Path


def rss_kib(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


class RssSampler:
    """Samples one pid in a daemon thread; ``peak_mib`` and ``last_mib`` at any time."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        self.pid, self._every = pid, every
        self.peak_kib = self.last_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"rss-{pid}", daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self._every)

    def sample(self) -> None:
        kib = rss_kib(self.pid)
        if kib is not None:
            self.last_kib, self.peak_kib = kib, max(self.peak_kib, kib)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024

    @property
    def last_mib(self) -> float:
        return self.last_kib / 1024
