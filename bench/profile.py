"""``python -m bench.profile``: where the answer POST and the decision POST spend their time.

One phased run of the service alone (``bench.e2e``) on a fresh embedded stack, with three views:

- **CPU per phase and process** (``/proc``): in the "CRA answers" phase, the worker's, the API's,
  the Temporal server's and the stand-ins' CPU seconds per answer; likewise in the agents' phase
  (admissibility, eligibility, decision);
- **spans** (the service's own OpenTelemetry traces, exported by OTLP/HTTP to a receiver in this
  process): per request, the mean time in each span under the HTTP server span: the Temporal
  client's calls (server + worker), SQL statements, the rest being the API's own code;
- **py-spy** (``--py-spy PATH``, optional; not a project dependency: ``pip install py-spy``):
  the API process sampled during the run, samples grouped by library (gRPC/Temporal bridge,
  payload codec, pydantic, SQLAlchemy, FastAPI/Starlette, templates, OpenTelemetry…).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from api.cli.stack import ProcessStack
from bench import report
from bench.cpu import CpuMeter
from bench.run import BENCH_ENV, PROCESSES, service_run
from bench.spans import Collector, Span

REQUESTS = {"CRA answer POST": "POST /cra/avis/", "decision POST": "POST /api/dossiers/"}
# py-spy frames (file paths) → what they are; the first match counts.
LIBRARIES = (
    ("payload codec (AES-GCM)", ("core/codec", "cryptography", "api/temporal")),
    ("workflow sandbox (temporalio.worker.workflow_sandbox)", ("workflow_sandbox",)),
    ("Temporal client (bridge, gRPC, protobuf)", ("temporalio", "google/protobuf", "grpc")),
    ("pydantic", ("pydantic",)),
    ("database (SQLAlchemy, aiosqlite)", ("sqlalchemy", "aiosqlite", "sqlite3", "asyncpg")),
    ("templates (Jinja)", ("jinja2", "api/templates")),
    ("OpenTelemetry", ("opentelemetry",)),
    ("HTTP server (uvicorn, Starlette, FastAPI)", ("uvicorn", "starlette", "fastapi", "h11",
                                                   "httptools", "anyio")),
    ("the service's own code (api/, core/)", ("/api/", "/core/")),
    ("asyncio event loop", ("asyncio",)),
)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--dossiers", type=int, default=60)
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--py-spy", dest="py_spy", default="", help="path of py-spy, to sample")
    return parser.parse_args(argv)


def _descendants(root: Span, by_parent: dict[bytes, list[Span]]) -> list[Span]:
    found, frontier = [], [root]
    while frontier:
        frontier = [c for s in frontier for c in by_parent.get(s.id, []) if c.start <= root.end]
        found += frontier
    return found


def span_table(spans: list[Span]) -> list[str]:
    by_parent: dict[bytes, list[Span]] = collections.defaultdict(list)
    for s in spans:
        by_parent[s.parent].append(s)
    lines = []
    for label, prefix in REQUESTS.items():
        roots = [s for s in spans if s.name.startswith(prefix) and s.name.endswith(
            "}" if label.startswith("CRA") else "decision") and not s.parent]
        if not roots:
            lines.append(f"== spans, {label}: none received")
            continue
        per_name: dict[str, list[float]] = collections.defaultdict(list)
        direct = 0.0
        for root in roots:
            for child in _descendants(root, by_parent):
                per_name[f"{child.service}: {child.name}"].append(child.ms)
            direct += sum(c.ms for c in by_parent.get(root.id, [])
                          if c.start <= root.end and "http " not in c.name)
        total = [r.ms for r in roots]
        lines += [f"== spans, {label} (n={len(roots)}): HTTP server span p50 "
                  f"{statistics.median(total):.1f} ms, mean {statistics.mean(total):.1f} ms; "
                  f"outside any child span (the API's own code, untraced calls): mean "
                  f"{statistics.mean(total) - direct / len(roots):.1f} ms",
                  "| span (process: name) | per request | mean ms each | ms per request |",
                  "|---|---|---|---|"]
        for name, values in sorted(per_name.items(), key=lambda kv: -sum(kv[1]))[:14]:
            lines.append(f"| {name} | {len(values) / len(roots):.2f} | "
                         f"{statistics.mean(values):.1f} | {sum(values) / len(roots):.1f} |")
    return lines


def cpu_table(laps: dict[str, dict[str, float]], n: int) -> list[str]:
    lines = ["== CPU seconds per dossier, by phase and process (/proc)",
             "| phase | " + " | ".join(PROCESSES) + " |", "|---|" + "---|" * len(PROCESSES)]
    for phase, used in laps.items():
        lines.append(f"| {phase} | " + " | ".join(f"{used[p] / n * 1000:.0f} ms"
                                                  for p in PROCESSES) + " |")
    return lines


def spy_table(path: Path, process: str) -> list[str]:
    if not path.exists():
        return ["== py-spy: no samples"]
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        samples = int(number)
        total += samples
        frames = stack.split(";")
        # The innermost frame that belongs to a known library names the sample.
        kind = next((label for frame in reversed(frames) for label, marks in LIBRARIES
                     if any(m in frame for m in marks)), "other")
        counts[kind] += samples
    return [f"== py-spy, {process} process: {total} samples (100 Hz, CPU only)",
            "| innermost known frame | share |", "|---|---|",
            *(f"| {k} | {v / total * 100:.0f} % |" for k, v in counts.most_common())]


async def profile(stack: ProcessStack, args: argparse.Namespace, collector: Collector,
                  out: Path) -> None:
    print(f"Machine: {report.machine()}", flush=True)
    meter = CpuMeter({name: stack.pid(name) for name in PROCESSES}).start()
    laps: dict[str, dict[str, float]] = {}

    def lap(name: str) -> None:
        laps[name] = meter.stop()
        meter.start()

    spies = []
    if args.py_spy:
        spies = [subprocess.Popen([args.py_spy, "record", "--pid", str(stack.pid(p)), "--rate",
                                   "100", "--format", "raw", "--nonblocking", "--output",
                                   str(out / f"{p}.txt")], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for p in ("api", "worker")]
    try:
        result = await service_run(stack, args.dossiers, args.members, args.agents, False, lap)
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
    await asyncio.sleep(8)  # the processes' batch span processors export every 5 s
    n = len(result.times)
    print("\n".join([
        f"== {n} dossiers, {args.members} members, {args.agents} agents; load {report.load()}",
        "  " + result.answer_post.line(50, 95, 99), "  " + result.decision_post.line(50, 95, 99),
        *cpu_table(laps, n), *span_table(collector.spans),
        *(line for p in (("api", "worker") if args.py_spy else ())
          for line in spy_table(out / f"{p}.txt", p)),
        *([f"  (raw samples: {out}/api.txt, {out}/worker.txt)"] if args.py_spy else []),
        f"Machine at the end: {report.machine()}"]), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    out = Path(tempfile.mkdtemp(prefix="ptce-profile-"))
    with Collector() as collector:
        env = {**BENCH_ENV, "PTCE_TELEMETRY__OTLP_ENDPOINT": collector.endpoint}
        started = time.monotonic()
        with ProcessStack(out / "var", log_dir=out / "logs", extra_env=env) as stack:
            print(f"Stack up in {time.monotonic() - started:.1f} s under {out}", flush=True)
            asyncio.run(profile(stack, args, collector, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
