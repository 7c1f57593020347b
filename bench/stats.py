"""Latency samples and their percentiles (nearest-rank: a reported p99 was actually observed)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Samples:
    """Durations in seconds; printed in milliseconds."""

    name: str
    values: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.values.append(seconds)

    def line(self, *ps: float) -> str:
        if not self.values:
            return f"{self.name}: no sample"
        figures = "  ".join(f"p{p:g} {percentile(self.values, p) * 1000:7.1f} ms" for p in ps)
        return f"{self.name} (n={len(self.values)}): {figures}  max {max(self.values) * 1000:.1f} ms"

    def ms(self, p: float) -> float:
        return percentile(self.values, p) * 1000
