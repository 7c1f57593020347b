"""The synthesis's rows: one per dossier with each CRA's opinion, loaded in two queries, and
the labels every view of them shares (page, charts, exports, metrics)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from statistics import mean
from typing import Any

from core.db.engine import Database
from core.db.synthesis import SynthesisRepository, document, moment
from core.domain.procedure import OPINION_LABELS, OUTCOME_LABELS, Opinion, Outcome, Stage
from core.domain.regions import region_name
from core.rules.selection import APPRECIATION_SCORES, Appreciation, CriteriaGroup

# The state of a CRA's opinion as the synthesis shows it, from the best to "no answer yet".
OPINION_STATES: dict[str, str] = {
    **{o.value: OPINION_LABELS[o].capitalize() for o in Opinion},
    "no_response": "Sans réponse à l’échéance",
    "skipped": "Close sans avis",
    "pending": "En attente",
}
STATE_RANK = {state: rank for rank, state in enumerate(OPINION_STATES)}
STAGE_ORDER = [Stage.RECEIVED, Stage.AWAITING_CORRECTION, Stage.ADMISSIBILITY, Stage.INSTRUCTION,
               Stage.NOTIFICATION, Stage.CLOSED]
DECISION_STATES: dict[str, str] = {**{o.value: OUTCOME_LABELS[o].capitalize() for o in Outcome},
                                   "none": "Sans décision"}


def utc(moment: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back: they were written in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@dataclass
class CraOpinion:
    region: str
    round: int
    status: str
    opinion: str | None
    author: str | None
    answered_at: datetime | None
    invited_at: datetime | None
    reminders_sent: int
    appreciations: dict[str, str] = field(default_factory=dict)
    motivation: str | None = None
    criteria_assessment: str | None = None

    @property
    def state(self) -> str:
        """favourable… when answered, else the consultation's status (pending, no_response…)."""
        return self.opinion if self.opinion else self.status

    @property
    def label(self) -> str:
        return OPINION_STATES.get(self.state, self.state)

    @property
    def region_label(self) -> str:
        return region_name(self.region)

    @property
    def delay_days(self) -> float | None:
        """Days from the invitation to the first answer."""
        if self.answered_at is None or self.invited_at is None:
            return None
        return (self.answered_at - self.invited_at).total_seconds() / 86400

    def score(self, group: CriteriaGroup) -> int | None:
        value = self.appreciations.get(group.value)
        return APPRECIATION_SCORES[Appreciation(value)] if value in APPRECIATION_SCORES else None


@dataclass
class SynthesisRow:
    number: int
    stage: str
    filed_at: datetime | None
    project: str | None
    regions: list[str]
    fragile: bool | None
    majority: bool | None
    outcome: str | None
    decided_at: datetime | None
    cras: list[CraOpinion] = field(default_factory=list)

    @property
    def decision(self) -> str:
        return self.outcome or "none"

    @property
    def open(self) -> bool:
        return self.stage != Stage.CLOSED.value

    def appreciation(self, group: CriteriaGroup) -> float | None:
        """The mean of the CRAs' appreciations of this group (4 the best), None when none gave one."""
        scores = [s for s in (c.score(group) for c in self.cras) if s is not None]
        return mean(scores) if scores else None


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _cra(row: Any, texts: bool) -> CraOpinion:
    return CraOpinion(
        region=row.region, round=row.round, status=row.status, opinion=row.opinion,
        author=row.author, answered_at=moment(row.answered_at), invited_at=moment(row.invited_at),
        reminders_sent=row.reminders_sent, appreciations=dict(document(row.appreciations) or {}),
        motivation=row.motivation if texts else None,
        criteria_assessment=row.criteria_assessment if texts else None)


async def load(db: Database, texts: bool = False) -> list[SynthesisRow]:
    """Every dossier of the synthesis; ``texts``: the opinions' motivations too (exports)."""
    async with db.unit_of_work() as session:
        repo = SynthesisRepository(session)
        dossiers = await repo.dossiers()
        consultations = await repo.consultations(texts)
    rows = {d.number: SynthesisRow(
        number=d.number, stage=d.stage, filed_at=moment(d.filed_at), project=d.project,
        regions=list(document(d.regions) or []), fragile=_flag(d.fragile_territory),
        majority=_flag(d.eligibility_majority), outcome=d.outcome,
        decided_at=moment(d.decided_at)) for d in dossiers}
    for c in consultations:
        row = rows.get(c.dossier_number)
        if row is not None:
            row.cras.append(_cra(c, texts))
    for row in rows.values():  # the dossier's order: main region first
        order = {r: i for i, r in enumerate(row.regions)}
        row.cras.sort(key=lambda c: (order.get(c.region, len(order)), c.region))
    return list(rows.values())
