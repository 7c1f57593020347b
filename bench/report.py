"""The printed figures: one block per part, then the targets of issue 9."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

from bench.e2e import E2eResult
from bench.history import HistorySize
from bench.stats import Samples


def machine() -> str:
    meminfo = Path("/proc/meminfo").read_text().split("\n")[0].split()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} CPUs, {int(meminfo[1]) // 1024} MiB RAM, "
            f"Python {platform.python_version()}, load average {load}")


def histories(sizes: list[HistorySize]) -> str:
    if not sizes:
        return "no history fetched"
    parents, totals = [s.parent for s in sizes], [s.total for s in sizes]
    return (f"parent {min(parents)}–{max(parents)} (mean {sum(parents) / len(parents):.0f}), "
            f"parent + children {min(totals)}–{max(totals)} (mean {sum(totals) / len(totals):.0f}) "
            f"over {len(sizes)} dossiers")


@dataclass
class Run:
    name: str
    result: E2eResult
    histories: list[HistorySize]

    @property
    def per_dossier(self) -> float:
        """Seconds of wall time per dossier: the run's wall time over its dossiers."""
        return self.result.wall / len(self.result.times)

    def lines(self) -> list[str]:
        r, n = self.result, len(self.result.times)
        ps = (50, 95, 99)
        return [
            f"== {self.name}: {n} dossiers in {r.wall:.1f} s → "
            f"{n / r.wall * 60:.1f} dossiers/min end to end ({self.per_dossier * 1000:.0f} ms "
            "of wall time per dossier)",
            "  " + r.end_to_end.line(50, 95),
            "  " + r.intake_to_invitation.line(50, 95),
            "  " + r.answer_post.line(*ps),
            "  " + r.admissibility_post.line(*ps),
            "  " + r.eligibility_post.line(*ps),
            "  " + r.decision_post.line(*ps),
            *(f"  phase {name}: {seconds:.1f} s" for name, seconds in r.phases.items()),
            f"  updates refused then retried (workflow not there yet): {r.refusals}",
            f"  history events per dossier: {histories(self.histories)}",
        ]


def target(label: str, value: float, limit: float, unit: str) -> str:
    verdict = "met" if value <= limit else f"MISSED by {value - limit:.1f} {unit}"
    return f"  {label}: {value:.1f} {unit} (target ≤ {limit:g} {unit}) → {verdict}"


def ratio_lines(service: Run, bare: Run) -> list[str]:
    wall = service.per_dossier / bare.per_dossier
    p50 = service.result.end_to_end.ms(50) / bare.result.end_to_end.ms(50)
    return [
        "== Overhead over the bare workflow (same server, same drive, same concurrency)",
        f"  wall time per dossier: service {service.per_dossier * 1000:.0f} ms, "
        f"bare {bare.per_dossier * 1000:.0f} ms → ratio {wall:.2f} (target ≤ 1.3)",
        f"  median filing→closed per dossier: service {service.result.end_to_end.ms(50):.0f} ms, "
        f"bare {bare.result.end_to_end.ms(50):.0f} ms → ratio {p50:.2f}",
    ]


def answer_target(samples: Samples, members: int, limit: float = 150) -> str:
    return target(f"CRA answer POST p99 at {members} concurrent members", samples.ms(99), limit,
                  "ms")


def history_target(sizes: list[HistorySize], limit: int = 150) -> str:
    if not sizes:
        return "  history events: not measured"
    parent, total = max(s.parent for s in sizes), max(s.total for s in sizes)
    return (target("history events of the standard path, dossier workflow (max)", parent, limit,
                   "events") + "\n" +
            target("history events, dossier + its CRA consultation (max)", total, limit, "events"))
