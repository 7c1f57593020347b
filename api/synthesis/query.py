"""What the agent asked for: the period (filing dates), the filters, the sort; read from the
query string, so that a filtered, sorted synthesis is a link (and the exports follow it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from api.synthesis.rows import (
    DECISION_STATES,
    OPINION_STATES,
    STAGE_ORDER,
    STATE_RANK,
    SynthesisRow,
)
from core.domain.procedure import Stage
from core.domain.regions import REGIONS, region_name
from core.rules.selection import CRITERIA_GROUP_LABELS, CriteriaGroup

DEFAULT_WINDOW = timedelta(days=365)  # default: every open dossier, and those decided within


def _first_state(row: SynthesisRow) -> int:
    return STATE_RANK.get(row.cras[0].state, len(STATE_RANK)) if row.cras else len(STATE_RANK)


def _optional(value: Any) -> tuple[bool, Any]:
    return (value is None, value)


def _by_appreciation(group: CriteriaGroup) -> Callable[[SynthesisRow], Any]:
    return lambda r: _optional(r.appreciation(group))


# Column key -> (French header, sort key). Values that may be missing sort last either way.
SORTS: dict[str, tuple[str, Callable[[SynthesisRow], Any]]] = {
    "numero": ("Dossier", lambda r: r.number),
    "depot": ("Dépôt", lambda r: _optional(r.filed_at)),
    "regions": ("Région(s)", lambda r: [region_name(c) for c in r.regions]),
    "territoire": ("Territoire fragile", lambda r: _optional(r.fragile)),
    "etape": ("Étape", lambda r: STAGE_ORDER.index(Stage(r.stage))
              if r.stage in Stage.__members__.values() else len(STAGE_ORDER)),
    "avis": ("Avis des CRA", _first_state),
    **{f"appreciation-{g.value}": (CRITERIA_GROUP_LABELS[g], _by_appreciation(g))
       for g in CriteriaGroup},
    "majorite": ("Majorité d’éligibilité", lambda r: _optional(r.majority)),
    "decision": ("Décision", lambda r: list(DECISION_STATES).index(r.decision)),
}


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _choice(value: str | None, allowed: Mapping[str, Any] | list[str]) -> str | None:
    return value if value and value in allowed else None


@dataclass(frozen=True)
class SynthesisQuery:
    start: date | None = None  # filing date, inclusive
    end: date | None = None
    stage: str | None = None
    region: str | None = None
    opinion: str | None = None
    decision: str | None = None
    sort: str = "numero"
    descending: bool = False
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> SynthesisQuery:
        """Unknown or malformed values are ignored (the page says what it applied)."""
        page = params.get("page", "1")
        return cls(start=_date(params.get("du")), end=_date(params.get("au")),
                   stage=_choice(params.get("etape"), [s.value for s in Stage]),
                   region=_choice(params.get("region"), REGIONS),
                   opinion=_choice(params.get("avis"), OPINION_STATES),
                   decision=_choice(params.get("decision"), DECISION_STATES),
                   sort=_choice(params.get("tri"), SORTS) or "numero",
                   descending=params.get("ordre") == "desc",
                   page=int(page) if page.isdigit() and int(page) > 0 else 1)

    @property
    def default_period(self) -> bool:
        return self.start is None and self.end is None

    def in_period(self, row: SynthesisRow, now: datetime) -> bool:
        if self.default_period:
            return row.open or (row.decided_at is not None
                                and row.decided_at >= now - DEFAULT_WINDOW)
        if row.filed_at is None:
            return False
        if self.start and row.filed_at < datetime.combine(self.start, time.min, UTC):
            return False
        return not (self.end and row.filed_at >= datetime.combine(self.end, time.min, UTC)
                    + timedelta(days=1))

    def keeps(self, row: SynthesisRow) -> bool:
        return ((self.stage is None or row.stage == self.stage)
                and (self.region is None or self.region in row.regions)
                and (self.opinion is None or any(c.state == self.opinion for c in row.cras))
                and (self.decision is None or row.decision == self.decision))

    def select(self, rows: list[SynthesisRow], now: datetime | None = None) -> list[SynthesisRow]:
        """The period's rows that pass the filters, sorted (missing values last)."""
        moment = now or datetime.now(UTC)
        kept = [r for r in rows if self.in_period(r, moment) and self.keeps(r)]
        key = SORTS[self.sort][1]
        kept.sort(key=lambda r: r.number)  # ties: by number
        if self.descending:
            present = [r for r in kept if not _missing(key(r))]
            missing = [r for r in kept if _missing(key(r))]
            return sorted(present, key=key, reverse=True) + missing
        return sorted(kept, key=key)

    def params(self, **changes: Any) -> str:
        """The query string of this query with ``changes`` (for links: sort, pages, exports)."""
        query = replace(self, **changes)
        values = {"du": query.start.isoformat() if query.start else None,
                  "au": query.end.isoformat() if query.end else None,
                  "etape": query.stage, "region": query.region, "avis": query.opinion,
                  "decision": query.decision,
                  "tri": query.sort if query.sort != "numero" else None,
                  "ordre": "desc" if query.descending else None,
                  "page": str(query.page) if query.page > 1 else None}
        return urlencode({k: v for k, v in values.items() if v})


def _missing(key: Any) -> bool:
    return isinstance(key, tuple) and len(key) == 2 and key[0] is True
