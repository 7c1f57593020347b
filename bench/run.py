"""``python -m bench.run`` / ``ptce bench``: the benchmark of issue 9, on a fresh embedded stack.

Default: 200 dossiers end to end (20 concurrent CRA members, 4 agents), then the bare baseline
on the same Temporal server. ``--waiting N`` runs the scale mode instead (``bench.scale``).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
from temporalio.client import Client

from api.cli.stack import ProcessStack
from api.temporal import connect
from bench import report
from bench.baseline import bare_worker
from bench.drivers import ServiceDriver
from bench.e2e import E2eResult, run_e2e
from bench.history import HistorySize, history_size
from bench.rss import RssSampler

# Every simulated member posts from 127.0.0.1: the per-address limit (120 a minute, meant for
# one person's browser) would throttle them all together; per-link limits stay as they are.
BENCH_ENV = {"PTCE_CRA_PAGES__RATE_LIMIT_PER_CLIENT": "1000000"}
HISTORY_SAMPLE = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def limits(connections: int) -> httpx.Limits:
    return httpx.Limits(max_connections=connections, max_keepalive_connections=connections)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ptce bench", description=__doc__)
    parser.add_argument("--dossiers", type=int, default=200, help="dossiers end to end")
    parser.add_argument("--members", type=int, default=20, help="concurrent CRA members")
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
    return parser.parse_args(argv)


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


async def service_run(stack: ProcessStack, args: argparse.Namespace) -> E2eResult:
    settings = stack.settings()
    secret = settings.api.webhook_secret.get_secret_value()
    async with (httpx.AsyncClient(timeout=120, limits=limits(20)) as plain,
                httpx.AsyncClient(timeout=120, limits=limits(args.members)) as member,
                httpx.AsyncClient(timeout=120, limits=limits(args.agents + 10)) as agent):
        driver = ServiceDriver(stack.base_urls, secret, plain, member, agent)
        await driver.sign_in()
        return await run_e2e(driver, args.dossiers, args.members, args.agents, args.pipelined)


async def standard(stack: ProcessStack, args: argparse.Namespace) -> None:
    settings = stack.settings()
    schedule = "pipelined" if args.pipelined else "phased"
    print(f"Machine: {report.machine()}", flush=True)
    print(f"Running {args.dossiers} dossiers end to end, {schedule} "
          f"({args.members} members, {args.agents} agents)…", flush=True)
    with RssSampler(stack.pid("worker")) as rss:
        result = await service_run(stack, args)
    client = await connect(settings.temporal, settings.codec)
    numbers = sorted(result.times)[:HISTORY_SAMPLE]
    service = report.Run("service", result, await sizes(client, [f"dossier-{n}" for n in numbers]))
    lines = service.lines()
    lines.insert(1, f"  worker RSS: peak {rss.peak_mib:.0f} MiB, at the end {rss.last_mib:.0f} MiB")
    print("\n".join(lines), flush=True)
    if args.no_baseline:
        return
    print(f"Machine: {report.machine()}", flush=True)
    print(f"Running the bare baseline ({args.dossiers} dossiers, {schedule})…", flush=True)
    bare_client = await Client.connect(settings.temporal.address,
                                       namespace=settings.temporal.namespace)
    async with bare_worker(bare_client) as driver:
        bare_result = await run_e2e(driver, args.dossiers, args.members, args.agents,
                                    args.pipelined)
    bare = report.Run("bare baseline", bare_result,
                      await sizes(bare_client, [driver.workflow_id(1)]))
    print("\n".join([*bare.lines(), *report.ratio_lines(service, bare), "== Targets",
                     report.answer_target(result.answer_post, args.members),
                     report.history_target(service.histories)]), flush=True)
    print(f"Machine at the end: {report.machine()}")


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
