"""``python -m bench.run`` / ``ptce bench``: the benchmark of issue 9, on a fresh embedded stack.

Default: at each concurrency of ``--members`` (1, then 20 concurrent CRA members; 4 agents at
most), dossiers end to end through the service, then the bare baseline on the same Temporal
server, driven alike: wall time, CPU seconds of the service's processes (worker, API) against
the bare worker's, workflow tasks and history events, latencies beside the bare Update's; all
ratios from this one run. ``--waiting N`` runs the scale mode instead (``bench.scale``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
from temporalio.client import Client

from api.cli.ports import free_port
from api.cli.stack import ProcessStack
from api.temporal import connect
from bench import report
from bench.baseline import bare_worker
from bench.cpu import CpuMeter
from bench.drivers import ServiceDriver
from bench.e2e import E2eResult, run_e2e
from bench.history import HistorySize, history_size
from bench.rss import RssSampler

# Every simulated member posts from 127.0.0.1: the per-address limit (120 a minute, meant for
# one person's browser) would throttle them all together; per-link limits stay as they are.
BENCH_ENV = {"PTCE_CRA_PAGES__RATE_LIMIT_PER_CLIENT": "1000000"}
HISTORY_SAMPLE = 50
# Processes whose CPU is measured: the service's own (worker, API), then for information the
# Temporal server and the stand-ins of the other organisations.
PROCESSES = ("worker", "api", "temporal", "platform", "mailbox")




def limits(connections: int) -> httpx.Limits:
    return httpx.Limits(max_connections=connections, max_keepalive_connections=connections)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ptce bench", description=__doc__)
    parser.add_argument("--dossiers", type=int, default=200, help="dossiers end to end")
    parser.add_argument("--members", default="1,20",
                        help="concurrent CRA members; a list (1,20) runs each level in turn, "
                             "service then bare (scale mode: the last one)")
    parser.add_argument("--dossiers-single", type=int, default=50,
                        help="dossiers at the levels below the highest (default 50)")
    parser.add_argument("--agents", type=int, default=4, help="concurrent BESSII agents")
    parser.add_argument("--pipelined", action="store_true",
                        help="every stage overlaps (saturated throughput) instead of phases")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare workflow")
    parser.add_argument("--waiting", type=int, default=0,
                        help="scale mode: bring this many dossiers to the CRA consultation")
    parser.add_argument("--answers", type=int, default=200,
                        help="scale mode: answers posted to dossiers evicted from the cache")
    parser.add_argument("--first", type=int, default=1,
                        help="scale mode: number of the first dossier answered")
    parser.add_argument("--resume", action="store_true",
                        help="scale mode: on a --keep directory already filled, only answer")
    parser.add_argument("--max-minutes", type=float, default=25.0,
                        help="scale mode: stop filing once this long has passed")
    parser.add_argument("--keep", type=Path, default=None,
                        help="data and logs in this directory, kept (default: a temporary one)")
    args = parser.parse_args(argv)
    args.levels = [int(x) for x in str(args.members).split(",")]
    args.members = args.levels[-1]
    return args


@contextmanager
def workdir(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="ptce-bench-") as tmp:
        yield Path(tmp)


async def sizes(client: Client, ids: list[str]) -> list[HistorySize]:
    return [await history_size(client, i) for i in ids]


async def service_run(stack: ProcessStack, n: int, members: int, agents: int,
                      pipelined: bool, on_lap: Callable[[str], None] | None = None) -> E2eResult:
    settings = stack.settings()
    secret = settings.api.webhook_secret.get_secret_value()
    async with (httpx.AsyncClient(timeout=120, limits=limits(20)) as plain,
                httpx.AsyncClient(timeout=120, limits=limits(members)) as member,
                httpx.AsyncClient(timeout=120, limits=limits(agents + 10)) as agent):
        driver = ServiceDriver(stack.base_urls, secret, plain, member, agent)
        await driver.sign_in()
        return await run_e2e(driver, n, members, agents, pipelined, on_lap)


async def level(stack: ProcessStack, args: argparse.Namespace, members: int, n: int
                ) -> tuple[report.Run, report.Run | None]:
    """The service, then the bare pair, at one concurrency: the same drive, one after the other."""
    settings = stack.settings()
    agents = min(args.agents, members)
    schedule = "pipelined" if args.pipelined else "phased"
    print(f"Running {n} dossiers end to end, {schedule} ({members} members, {agents} agents); "
          f"machine: {report.machine()}", flush=True)
    load_before = report.load()
    meter = CpuMeter({name: stack.pid(name) for name in PROCESSES}).start()
    with RssSampler(stack.pid("worker")) as rss:
        result = await service_run(stack, n, members, agents, args.pipelined)
    cpu = meter.stop()
    client = await connect(settings.temporal, settings.codec)
    numbers = sorted(result.times)[:HISTORY_SAMPLE]
    service = report.Run(f"service, {members} member(s)", result,
                         await sizes(client, [f"dossier-{x}" for x in numbers]), cpu, load_before)
    lines = service.lines()
    lines.insert(1, f"  worker RSS: peak {rss.peak_mib:.0f} MiB, at the end {rss.last_mib:.0f} MiB")
    print("\n".join(lines), flush=True)
    if args.no_baseline:
        return service, None
    print(f"Running the bare baseline ({n} dossiers, {schedule}, {members} members); "
          f"machine: {report.machine()}", flush=True)
    bare_client = await Client.connect(settings.temporal.address,
                                       namespace=settings.temporal.namespace)
    load_before = report.load()
    async with bare_worker(bare_client, settings.temporal.address) as driver:
        meter = CpuMeter({"worker": driver.pid, "temporal": stack.pid("temporal")}).start()
        bare_result = await run_e2e(driver, n, members, agents, args.pipelined)
        cpu = meter.stop()
    ids = [driver.workflow_id(x) for x in sorted(bare_result.times)[:HISTORY_SAMPLE]]
    bare = report.Run(f"bare baseline, {members} member(s)", bare_result,
                      await sizes(bare_client, ids), cpu, load_before)
    print("\n".join(bare.lines()), flush=True)
    return service, bare


async def standard(stack: ProcessStack, args: argparse.Namespace) -> None:
    print(f"Machine: {report.machine()}", flush=True)
    runs = []
    for members in args.levels:
        n = args.dossiers if members == max(args.levels) else args.dossiers_single
        runs.append((members, min(args.agents, members), *await level(stack, args, members, n)))
    out: list[str] = []
    for members, agents, service, bare in runs:
        if bare is not None:
            out += [*report.comparison(members, agents, service, bare),
                    *report.targets(members, service, bare)]
    print("\n".join([*out, f"Machine at the end: {report.machine()}"]), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    with workdir(args.keep) as base:
        started = time.monotonic()
        print(f"Starting the embedded stack under {base}…", flush=True)
        env = dict(BENCH_ENV)
        metrics = f"127.0.0.1:{free_port()}"
        if args.waiting:  # the worker's cache figures (sticky-cache hits, misses, size)
            env["PTCE_TELEMETRY__METRICS_BIND_ADDRESS"] = metrics
        with ProcessStack(base / "var", log_dir=base / "logs", extra_env=env) as stack:
            print(f"Stack up in {time.monotonic() - started:.1f} s: {stack.base_urls}", flush=True)
            if args.waiting:
                from bench.scale import run_scale

                asyncio.run(run_scale(stack, args, metrics))
            else:
                asyncio.run(standard(stack, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
