"""Scale mode (``--waiting N``): N dossiers brought to the CRA consultation and held there by one
worker; its memory; then answers posted to dossiers the worker has evicted from its cache.

The dossiers are filed on the platform stand-in in batches through its test-only bulk path
(``POST /_standin/dossiers/bulk``), each batch followed by the platform's webhook: the normal
intake then reads and starts them. The worker keeps the production cache setting
(``PTCE_TEMPORAL__MAX_CACHED_WORKFLOWS``, default 300): with N dossiers (2·N workflows) the
earliest ones left the cache long ago, and the worker's own metrics (sticky-cache misses,
cache size) show it. Progress is watched in Temporal's visibility (a count, not a driver);
everything else goes through the public interfaces.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time

import httpx
from temporalio.client import Client

from api.cli.stack import ProcessStack
from api.temporal import connect
from bench import report
from bench.public import LINK, CraMember, Platform, webhook
from bench.rss import RssSampler
from bench.stats import Samples

BATCH = 100  # dossiers per bulk filing, then the webhook
BACKLOG = 300  # filed but not yet consulted: the filing waits beyond this
CONSULTED = "WorkflowType = 'CraConsultationWorkflow'"
METRIC = re.compile(r"^(temporal_sticky_cache_\w+?)(?:\{[^}]*\})? ([0-9.e+-]+)$", re.M)


async def consulted(client: Client) -> int:
    return (await client.count_workflows(CONSULTED)).count


async def cache_metrics(http: httpx.AsyncClient, address: str) -> dict[str, float]:
    text = (await http.get(f"http://{address}/metrics")).text
    found: dict[str, float] = {}
    for name, value in METRIC.findall(text):
        found[name] = found.get(name, 0.0) + float(value)
    return found


async def bring_to_consultation(stack: ProcessStack, client: Client, http: httpx.AsyncClient,
                                args: argparse.Namespace, rss: RssSampler
                                ) -> tuple[list[int], float]:
    """Files up to ``args.waiting`` dossiers within the time budget; (numbers, seconds)."""
    urls, settings = stack.base_urls, stack.settings()
    secret = settings.api.webhook_secret.get_secret_value()
    platform = Platform(http, urls["platform"])
    budget = args.max_minutes * 60
    began = last_print = time.monotonic()
    filed, numbers = 0, []
    while filed < args.waiting and time.monotonic() - began < budget:
        done = await consulted(client)
        if filed - done >= BACKLOG:
            await asyncio.sleep(0.5)
        else:
            count = min(BATCH, args.waiting - filed)
            numbers += await platform.file_many(filed, count)
            filed = len(numbers)
            await webhook(http, urls["api"], secret)
        if time.monotonic() - last_print >= 30:
            last_print = time.monotonic()
            elapsed = last_print - began
            print(f"  {elapsed:6.0f} s: filed {filed}, consulted {done} "
                  f"({done / elapsed * 60:.0f}/min), worker RSS {rss.last_mib:.0f} MiB, "
                  f"load {report.machine().rsplit('average ', 1)[1]}", flush=True)
    while (done := await consulted(client)) < filed:
        await asyncio.sleep(1)
    return numbers, time.monotonic() - began


async def token_of(http: httpx.AsyncClient, mailbox: str, number: int) -> str:
    response = await http.get(f"{mailbox}/api/messages",
                              params={"subject": f"demandé – dossier n° {number} –"})
    response.raise_for_status()
    for message in response.json():
        link = LINK.search(message["text"])
        if link:
            return link.group(1)
    raise RuntimeError(f"no invitation for dossier {number}")


async def answer_evicted(stack: ProcessStack, http: httpx.AsyncClient, numbers: list[int],
                         members: int) -> Samples:
    urls = stack.base_urls
    tokens = [await token_of(http, urls["mailbox"], n) for n in numbers]
    samples = Samples("CRA answer POST, dossier evicted from the worker cache")
    slots = asyncio.Semaphore(members)
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=members)) as h:
        member = CraMember(h, urls["api"])

        async def one(token: str) -> None:
            async with slots:
                samples.add(await member.answer(token))

        await asyncio.gather(*(one(t) for t in tokens))
    return samples


async def run_scale(stack: ProcessStack, args: argparse.Namespace, metrics_address: str) -> None:
    settings = stack.settings()
    client = await connect(settings.temporal, settings.codec)
    print(f"Machine: {report.machine()}", flush=True)
    lines: list[str] = []
    async with httpx.AsyncClient(timeout=120) as http:
        with RssSampler(stack.pid("worker"), every=1.0) as rss:
            if args.resume:
                # A fresh worker on a kept stack: every workflow is out of its (empty) cache.
                filed = await consulted(client)
                numbers = list(range(1, filed + 1))
                print(f"Resumed on {filed} consulted dossiers, fresh worker; settling 30 s…",
                      flush=True)
            else:
                print(f"Scale: bringing up to {args.waiting} dossiers to the CRA consultation "
                      f"(budget {args.max_minutes:g} min)…", flush=True)
                numbers, seconds = await bring_to_consultation(stack, client, http, args, rss)
                filed = len(numbers)
                print(f"  {filed} dossiers consulted in {seconds:.0f} s "
                      f"({filed / seconds * 60:.0f}/min); settling 30 s…", flush=True)
                lines.append(f"  filed through the intake and consulted: {filed} dossiers at "
                             f"{filed / seconds * 60:.0f} dossiers/min ({seconds:.0f} s)")
            await asyncio.sleep(30)
            held_mib, peak_mib = rss.last_mib, rss.peak_mib
            lines.append(f"  worker RSS holding them: {held_mib:.0f} MiB (peak while filing "
                         f"{peak_mib:.0f} MiB); load average {report.load()}")
            # The earliest dossiers: out of the cache since ~1000 workflows ran after them.
            pool = numbers[args.first - 1:max(args.first, filed - 1000)]
            answered: list[Samples] = []
            for members in args.levels:
                chosen, pool = pool[:args.answers], pool[args.answers:]
                before = await cache_metrics(http, metrics_address)
                print(f"Answering {len(chosen)} dossiers ({chosen[:1]}…{chosen[-1:]}), "
                      f"{members} concurrent members…", flush=True)
                samples = await answer_evicted(stack, http, chosen, members)
                samples.name += f", {members} concurrent member(s)"
                answered.append(samples)
                after = await cache_metrics(http, metrics_address)
                lines += [f"  worker cache before these answers: {before}",
                          f"  worker cache after them: {after}", "  " + samples.line(50, 95, 99),
                          f"  worker RSS after them: {rss.last_mib:.0f} MiB (peak "
                          f"{rss.peak_mib:.0f} MiB); load average {report.load()}"]
            # The answers filled the cache (each touches a consultation and its dossier).
            full_peak_mib = rss.peak_mib
    running = await client.count_workflows("ExecutionStatus = 'Running'")
    print("\n".join([
        f"== Scale: {filed} dossiers waiting on their CRA, held by one worker "
        f"({running.count} running workflows)",
        *lines,
        "== Targets",
        report.target("worker RSS holding them, at its peak (1 MiB = 1.048576 MB)",
                      max(peak_mib, full_peak_mib) * 1.048576, 400, "MB"),
        *(report.target(f"evicted answer POST p99 ({s.name})", s.ms(99), 300, "ms")
          for s in answered),
        f"Machine at the end: {report.machine()}",
    ]), flush=True)
