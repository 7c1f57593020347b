"""Benchmark of BESSII's synthesis page: seeds N dossiers (default 2,000) with their CRA
opinions in a fresh database, through the same repository the workflows' store activity uses,
then times ``GET /agents/synthese`` (and the CSV export) in-process and prints the figures.

    .venv/bin/python -m bench.synthesis [--dossiers 2000] [--requests 20] [--database-url URL]

The figures recorded on the project's machine are in ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from core.db.engine import Database, create_engine, create_schema
from core.db.synthesis import SynthesisRepository
from core.domain.dossier import TerritoryFlags
from core.domain.procedure import (
    AdmissibilityDecision,
    Agent,
    ConsultationStatus,
    DecisionRequest,
    Opinion,
    Outcome,
    Stage,
)
from core.domain.regions import REGIONS
from core.domain.synthesis import ConsultationSynthesis, DossierSynthesis, EligibilitySynthesis
from core.rules.eligibility import Assessment, Criterion, EligibilityAssessment
from core.rules.selection import Appreciation, CriteriaGroup

AGENT = Agent(id="bench-agent", name="Agent du banc d’essai")
STAGES = [Stage.AWAITING_CORRECTION, Stage.ADMISSIBILITY, Stage.INSTRUCTION, Stage.CLOSED]


def _consultation(rng: random.Random, region: str, filed: datetime, closed: bool
                  ) -> ConsultationSynthesis:
    invited = filed + timedelta(days=rng.randint(1, 5))
    if rng.random() < (0.85 if closed else 0.5):
        answered = invited + timedelta(days=rng.uniform(1, 20))
        return ConsultationSynthesis(
            region=region, status=ConsultationStatus.ANSWERED, opinion=rng.choice(list(Opinion)),
            motivation=f"Avis motivé de la CRA {REGIONS[region]} ; « ancrage » réel.",
            appreciations={g: rng.choice(list(Appreciation)) for g in CriteriaGroup
                           if rng.random() < 0.7},
            author="Camille Rapporteure (Correspondant régional de l’ESS)", answered_at=answered,
            invited_at=invited, deadline=invited + timedelta(days=21),
            reminders_sent=rng.randint(0, 2))
    status = ConsultationStatus.NO_RESPONSE if closed else ConsultationStatus.PENDING
    return ConsultationSynthesis(region=region, status=status, invited_at=invited,
                                 deadline=invited + timedelta(days=21),
                                 reminders_sent=rng.randint(0, 3))


def snapshot(rng: random.Random, number: int, now: datetime) -> tuple[str, DossierSynthesis,
                                                                       datetime | None]:
    """A plausible dossier: its stage, snapshot and decision date."""
    filed = now - timedelta(days=rng.uniform(0, 500))
    stage = rng.choice(STAGES)
    codes = list(REGIONS)
    regions = [rng.choice(codes)] + ([rng.choice(codes)] if rng.random() < 0.2 else [])
    regions = list(dict.fromkeys(regions))
    closed = stage is Stage.CLOSED
    consulted = stage is not Stage.AWAITING_CORRECTION
    decision = (DecisionRequest(agent=AGENT, outcome=rng.choice(list(Outcome)),
                                motivation="Décision motivée.") if closed else None)
    admissibility = (AdmissibilityDecision(agent=AGENT, admissible=True, reason="Recevable.")
                     if stage in (Stage.INSTRUCTION, Stage.CLOSED) else None)
    eligibility = (EligibilitySynthesis(assessment=EligibilityAssessment(criteria={
        c: rng.choice(list(Assessment)) for c in Criterion}), by=AGENT.name)
                   if admissibility else None)
    synthesis = DossierSynthesis(
        version=number, project=f"Pôle territorial n° {number}", structure="Association",
        filed_at=filed, regions=regions,
        territory=TerritoryFlags(qpv=rng.random() < 0.2, zrr=rng.random() < 0.2),
        admissibility=admissibility, eligibility=eligibility, decision=decision,
        consultations=[_consultation(rng, r, filed, closed) for r in regions] if consulted else [])
    decided = filed + timedelta(days=rng.uniform(30, 90)) if closed else None
    return stage.value, synthesis, decided


async def seed(db: Database, count: int, first: int = 1, now: datetime | None = None,
               seed_value: int = 17) -> None:
    rng = random.Random(seed_value)
    moment = now or datetime.now(UTC)
    async with db.unit_of_work() as session:
        repo = SynthesisRepository(session)
        for number in range(first, first + count):
            stage, synthesis, decided = snapshot(rng, number, moment)
            await repo.save(number, stage, synthesis, decided)


async def _time(client: httpx.AsyncClient, path: str, requests: int) -> list[float]:
    timings = []
    for _ in range(requests):
        start = time.perf_counter()
        response = await client.get(path)
        timings.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return timings


async def run(dossiers: int, requests: int, database_url: str | None) -> None:
    from api.app import create_app
    from core.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        db = Database(create_engine(url))
        await create_schema(db.engine)
        started = time.perf_counter()
        await seed(db, dossiers)
        print(f"seeded {dossiers} dossiers in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})")
        app = create_app(Settings(environment="dev", var_dir=Path(tmp)), temporal=None, db=db)
        app.state.temporal = None  # the synthesis never asks Temporal
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            signed = await client.post("/connexion/dev", data={
                "name": "Banc d’essai", "email": "bench@dgtresor.localhost", "role": "agent"},
                headers={"origin": "http://bench"})
            assert signed.status_code == 303, signed.text
            await client.get("/agents/synthese")  # warm-up (templates compiled)
            for label, path in (
                    ("page /agents/synthese", "/agents/synthese"),
                    ("page, sorted by opinion, one region", "/agents/synthese?tri=avis&region=53"),
                    ("CSV export", "/agents/synthese/export.csv")):
                timings = await _time(client, path, requests)
                print(f"{label}: median {statistics.median(timings):.0f} ms, "
                      f"max {max(timings):.0f} ms over {requests} requests")
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--database-url", default=None,
                        help="default: a SQLite file in a temporary directory")
    args = parser.parse_args()
    asyncio.run(run(args.dossiers, args.requests, args.database_url))


if __name__ == "__main__":
    main()
