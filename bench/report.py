"""The printed figures: one block per run, then one table per concurrency comparing the service
with the bare workflow of the same run, then the targets of issues 9 and 18."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

from bench.e2e import E2eResult
from bench.history import HistorySize
from bench.stats import Samples

PS = (50, 95, 99)


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> str:
    meminfo = Path("/proc/meminfo").read_text().split("\n")[0].split()
    return (f"{os.cpu_count()} CPUs, {int(meminfo[1]) // 1024} MiB RAM, "
            f"Python {platform.python_version()}, load average {load()} (os.getloadavg())")


def _range(values: list[int]) -> str:
    if not values:
        return "–"
    return f"{min(values)}–{max(values)} (mean {sum(values) / len(values):.1f})"


def histories(sizes: list[HistorySize]) -> str:
    if not sizes:
        return "no history fetched"
    return (f"dossier {_range([s.parent for s in sizes])}, its consultation(s) "
            f"{_range([s.children for s in sizes])}, both {_range([s.total for s in sizes])} "
            f"over {len(sizes)} dossiers")


@dataclass
class Run:
    name: str
    result: E2eResult
    histories: list[HistorySize]
    cpu: dict[str, float] = field(default_factory=dict)  # process → CPU seconds over the run
    load_before: str = ""

    @property
    def per_dossier(self) -> float:
        """Seconds of wall time per dossier: the run's wall time over its dossiers."""
        return self.result.wall / len(self.result.times)

    def cpu_per_dossier(self, *names: str) -> float:
        return sum(self.cpu.get(n, 0.0) for n in names) / len(self.result.times)

    def lines(self) -> list[str]:
        r, n = self.result, len(self.result.times)
        return [
            f"== {self.name}: {n} dossiers in {r.wall:.1f} s → "
            f"{n / r.wall * 60:.1f} dossiers/min end to end ({self.per_dossier * 1000:.0f} ms "
            f"of wall time per dossier); load average before {self.load_before}, after {load()}",
            "  " + r.end_to_end.line(50, 95),
            "  " + r.intake_to_invitation.line(50, 95),
            "  " + r.answer_post.line(*PS),
            "  " + r.admissibility_post.line(*PS),
            "  " + r.eligibility_post.line(*PS),
            "  " + r.decision_post.line(*PS),
            *(f"  phase {name}: {seconds:.1f} s" for name, seconds in r.phases.items()),
            f"  updates refused then retried (workflow not there yet): {r.refusals}",
            f"  history events: {histories(self.histories)}",
            "  CPU seconds over the run: " + ", ".join(f"{k} {v:.1f}" for k, v in self.cpu.items()),
        ]


def _mean(values: list[int]) -> float:
    return sum(values) / len(values) if values else float("nan")


def _pcts(s: Samples) -> str:
    return " / ".join(f"{s.ms(p):.0f}" for p in PS)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "–"


SERVICE = ("worker", "api")  # the service's own processes (not the stand-ins, not the server)


def comparison(members: int, agents: int, service: Run, bare: Run) -> list[str]:
    """One Markdown table: the service beside the bare workflow of the same run."""
    s_h, b_h = service.histories, bare.histories
    rows = [
        ("wall time per dossier (ms)", f"{service.per_dossier * 1000:.0f}",
         f"{bare.per_dossier * 1000:.0f}", _ratio(service.per_dossier, bare.per_dossier)),
        ("CPU s per dossier: worker + API (bare: its worker)",
         f"{service.cpu_per_dossier(*SERVICE):.3f} ({service.cpu_per_dossier('worker'):.3f} + "
         f"{service.cpu_per_dossier('api'):.3f})", f"{bare.cpu_per_dossier('worker'):.3f}",
         _ratio(service.cpu_per_dossier(*SERVICE), bare.cpu_per_dossier("worker"))),
        ("CPU s per dossier: Temporal server", f"{service.cpu_per_dossier('temporal'):.3f}",
         f"{bare.cpu_per_dossier('temporal'):.3f}",
         _ratio(service.cpu_per_dossier("temporal"), bare.cpu_per_dossier("temporal"))),
        ("CPU s per dossier: stand-ins (platform + mailbox; not counted)",
         f"{service.cpu_per_dossier('platform', 'mailbox'):.3f}", "–", "–"),
        ("workflow tasks: dossier / consultation",
         f"{_mean([h.parent_tasks for h in s_h]):.1f} / {_mean([h.children_tasks for h in s_h]):.1f}",
         f"{_mean([h.parent_tasks for h in b_h]):.1f} / {_mean([h.children_tasks for h in b_h]):.1f}",
         _ratio(_mean([h.tasks for h in s_h]), _mean([h.tasks for h in b_h]))),
        ("history events: dossier / consultation (mean)",
         f"{_mean([h.parent for h in s_h]):.1f} / {_mean([h.children for h in s_h]):.1f}",
         f"{_mean([h.parent for h in b_h]):.1f} / {_mean([h.children for h in b_h]):.1f}",
         _ratio(_mean([h.total for h in s_h]), _mean([h.total for h in b_h]))),
        ("history events: dossier + consultation, max",
         str(max((h.total for h in s_h), default=0)), str(max((h.total for h in b_h), default=0)),
         "–"),
        ("answer POST vs bare `submit_opinion` p50 / p95 / p99 (ms)",
         _pcts(service.result.answer_post), _pcts(bare.result.answer_post),
         "p99 " + _ratio(service.result.answer_post.ms(99), bare.result.answer_post.ms(99))),
        ("decision POST vs bare `record_decision` p50 / p95 / p99 (ms)",
         _pcts(service.result.decision_post), _pcts(bare.result.decision_post),
         "p99 " + _ratio(service.result.decision_post.ms(99), bare.result.decision_post.ms(99))),
    ]
    return [
        f"== {members} concurrent member(s), {agents} agent(s), {len(service.result.times)} "
        f"dossiers: service vs bare in this run (load before: service {service.load_before}, "
        f"bare {bare.load_before})",
        "| figure | service | bare | ratio |", "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows),
    ]


def target(label: str, value: float, limit: float, unit: str) -> str:
    verdict = "met" if value <= limit else f"MISSED by {value - limit:.2f} {unit}"
    return f"  {label}: {value:.2f} {unit} (target ≤ {limit:g} {unit}) → {verdict}"


def targets(members: int, service: Run, bare: Run) -> list[str]:
    events = max((h.total for h in service.histories), default=0)
    answer = service.result.answer_post.ms(99) / bare.result.answer_post.ms(99)
    return [
        f"== Targets (issue 18) at {members} concurrent member(s)",
        target("wall time per dossier, service / bare", service.per_dossier / bare.per_dossier,
               1.3, "×"),
        target("answer POST p99 / bare update p99", answer, 1.25, "×"),
        target("history events, dossier + its consultation (max)", events, 150, "events"),
        f"  CPU per dossier, service (worker + API) / bare worker: "
        f"{_ratio(service.cpu_per_dossier(*SERVICE), bare.cpu_per_dossier('worker'))}",
    ]
