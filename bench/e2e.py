"""N dossiers end to end, with simulated people, against a ``Driver`` (service or bare).

An applicant files each dossier (batches of ten, then the platform's webhook); the CRA
invitations are picked up as they arrive; a committee member (at most ``members`` at once)
posts the opinion; a BESSII agent (at most ``agents`` at once) confirms admissibility, records
the eligibility criteria, then the decision (sent again while refused: the opinion reaches the
dossier by a signal, the agent may be quicker); a dossier is done when it shows closed.

Two schedules. *Phased* (default): all dossiers are filed and consulted, then the members
answer, then the agents act: each latency is measured under its own concurrency only.
*Pipelined*: each dossier moves on as soon as its invitation arrives, everything overlaps:
the saturated throughput, with latencies that include queueing behind the other stages.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.drivers import Driver
from bench.public import Refused
from bench.stats import Samples

INVITATION_POLL = 0.25  # seconds between two reads of the mailbox
CLOSED_POLL = 0.2
BATCH = 10


@dataclass
class Times:
    filed: float
    invited: float | None = None  # the first invitation's arrival
    closed: float | None = None


@dataclass
class E2eResult:
    times: dict[int, Times] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)  # phase → seconds
    answer_post: Samples = field(default_factory=lambda: Samples("CRA answer POST"))
    decision_post: Samples = field(default_factory=lambda: Samples("decision POST"))
    admissibility_post: Samples = field(default_factory=lambda: Samples("admissibility POST"))
    eligibility_post: Samples = field(default_factory=lambda: Samples("eligibility POST"))
    refusals: int = 0  # refusals retried (the workflow had not caught up yet)

    def _span(self, name: str, start: Callable[[Times], float | None],
              end: Callable[[Times], float | None]) -> Samples:
        samples = Samples(name)
        for t in self.times.values():
            a, b = start(t), end(t)
            if a is not None and b is not None:
                samples.add(b - a)
        return samples

    @property
    def intake_to_invitation(self) -> Samples:
        return self._span("filing → CRA invitation received", lambda t: t.filed,
                          lambda t: t.invited)

    @property
    def end_to_end(self) -> Samples:
        return self._span("filing → closed, per dossier", lambda t: t.filed, lambda t: t.closed)

    @property
    def wall(self) -> float:
        """First filing to last dossier closed."""
        closed = [t.closed for t in self.times.values() if t.closed is not None]
        return max(closed) - min(t.filed for t in self.times.values())


async def _until_accepted(action: Callable[[], Awaitable[float]], result: E2eResult,
                          samples: Samples, attempts: int = 600) -> None:
    for _ in range(attempts):
        try:
            samples.add(await action())
            return
        except Refused:
            result.refusals += 1
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{samples.name}: still refused after {attempts} attempts")


class Bench:
    def __init__(self, driver: Driver, members: int, agents: int,
                 on_lap: Callable[[str], None] | None = None) -> None:
        self.driver, self.result = driver, E2eResult()
        self._on_lap = on_lap  # called at the end of each phase (the profile's CPU per phase)
        self._members, self._agents = asyncio.Semaphore(members), asyncio.Semaphore(agents)

    async def file_all(self, n: int) -> None:
        for start in range(0, n, BATCH):
            batch = range(start, min(n, start + BATCH))
            for number in await asyncio.gather(*(self.driver.file(i) for i in batch)):
                self.result.times[number] = Times(filed=time.time())
            await self.driver.filed()

    async def new_invitations(self, seen: set[int]) -> list[int]:
        fresh = []
        for number, at in (await self.driver.invitations()).items():
            if number not in seen and number in self.result.times:
                seen.add(number)
                self.result.times[number].invited = at
                fresh.append(number)
        return fresh

    async def answer(self, number: int) -> None:
        async with self._members:
            self.result.answer_post.add(await self.driver.answer(number))

    async def admit(self, number: int) -> None:
        async with self._agents:
            await _until_accepted(lambda: self.driver.admissibility(number), self.result,
                                  self.result.admissibility_post)
            self.result.eligibility_post.add(await self.driver.eligibility(number))

    async def decide(self, number: int) -> None:
        async with self._agents:
            await _until_accepted(lambda: self.driver.decision(number), self.result,
                                  self.result.decision_post)

    async def until_closed(self, number: int) -> None:
        while not await self.driver.closed(number):
            await asyncio.sleep(CLOSED_POLL)
        self.result.times[number].closed = time.time()

    async def pipelined(self, n: int) -> None:
        async def follow(number: int) -> None:
            await asyncio.gather(self.answer(number), self.admit(number))
            await self.decide(number)
            await self.until_closed(number)

        filing = asyncio.create_task(self.file_all(n))
        followers: list[asyncio.Task[None]] = []
        seen: set[int] = set()
        while len(seen) < n:
            followers += [asyncio.create_task(follow(x)) for x in await self.new_invitations(seen)]
            if filing.done():
                filing.result()  # a filing error stops the run
            await asyncio.sleep(INVITATION_POLL)
        await filing
        await asyncio.gather(*followers)

    async def phased(self, n: int) -> None:
        phases, began = self.result.phases, time.monotonic()

        def lap(name: str) -> None:
            nonlocal began
            now = time.monotonic()
            phases[name], began = now - began, now
            if self._on_lap is not None:
                self._on_lap(name)

        await self.file_all(n)
        seen: set[int] = set()
        while len(seen) < n:
            await self.new_invitations(seen)
            await asyncio.sleep(INVITATION_POLL)
        lap("filing and intake until every invitation arrived")
        await asyncio.gather(*(self.answer(x) for x in seen))
        lap("CRA answers")

        async def act(number: int) -> None:
            await self.admit(number)
            await self.decide(number)

        await asyncio.gather(*(act(x) for x in seen))
        lap("agents: admissibility, eligibility, decision")
        await asyncio.gather(*(self.until_closed(x) for x in seen))
        lap("until every dossier closed")


async def run_e2e(driver: Driver, n: int, members: int, agents: int, pipelined: bool,
                  on_lap: Callable[[str], None] | None = None) -> E2eResult:
    bench = Bench(driver, members, agents, on_lap)
    await (bench.pipelined(n) if pipelined else bench.phased(n))
    return bench.result
