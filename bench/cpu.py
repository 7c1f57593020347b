"""CPU seconds of a process and of its descendants, read from ``/proc`` (Linux; the benchmark's
machine): user + system time of the process tree, children already reaped included."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # after "pid (comm) "; comm may hold spaces


def _tree(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = int(fields[1])
    found, frontier = [root], [root]
    while frontier:
        frontier = [p for p, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def cpu_seconds(pid: int) -> float:
    total = 0
    for p in _tree(pid):
        fields = _stat(p)
        if fields is not None:  # utime, stime, cutime, cstime: fields 14–17 of stat(5)
            total += sum(int(x) for x in fields[11:15])
    return total / TICKS


@dataclass
class CpuMeter:
    """CPU seconds each named process used between ``start()`` and ``stop()``."""

    pids: dict[str, int]
    used: dict[str, float] = field(default_factory=dict)
    _at_start: dict[str, float] = field(default_factory=dict)

    def start(self) -> CpuMeter:
        self._at_start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        return self

    def stop(self) -> dict[str, float]:
        self.used = {name: cpu_seconds(pid) - self._at_start[name]
                     for name, pid in self.pids.items()}
        return self.used
