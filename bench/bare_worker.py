"""``python -m bench.bare_worker ADDRESS NAMESPACE TASK_QUEUE``: the bare workflow pair's worker
in a process of its own, so that its CPU is measured apart from the benchmark's driver (as the
service's worker is). Default data converter, default worker options; stops on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys

from temporalio.client import Client
from temporalio.worker import Worker

from bench.bare import BareConsultation, BareDossier, noop

READY = "bare worker ready"


async def main(address: str, namespace: str, task_queue: str) -> None:
    client = await Client.connect(address, namespace=namespace)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with Worker(client, task_queue=task_queue, workflows=[BareDossier, BareConsultation],
                      activities=[noop]):
        print(READY, flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
