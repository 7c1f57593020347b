"""The synthesis's figures, each one a small table: what a chart draws and the accessible table
beside it show, and what ``/metrics`` exports (the same function, so the numbers agree)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from api.synthesis.rows import DECISION_STATES, OPINION_STATES, STAGE_ORDER, SynthesisRow
from core.domain.procedure import STAGE_LABELS, Outcome
from core.domain.regions import region_name

MONTHS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
          "nov.", "déc."]


@dataclass(frozen=True)
class Figure:
    """Rows × series of numbers; ``kind`` is the DSFR chart element that draws it."""

    id: str
    title: str
    kind: str  # bar-chart | line-chart
    row_header: str
    rows: list[str]  # labels
    keys: list[str]  # the rows' stable keys (metric labels)
    series: list[str]  # labels
    series_keys: list[str]
    values: list[list[float]]  # one list per series, one value per row
    unit: str = "dossiers"
    stacked: bool = False
    metric: str = ""  # the Prometheus gauge of the same numbers (ptce_synthesis_…)
    row_label: str = ""
    series_label: str | None = None  # None: one series, no label

    @property
    def empty(self) -> bool:
        return not self.rows

    @property
    def chart_x(self) -> list[list[str]]:
        """A line chart takes one x list per series, a bar chart one for all."""
        return [self.rows] * (len(self.series) if self.kind == "line-chart" else 1)

    def text(self, row: int, series: int) -> str:
        return decimal(self.values[series][row])


def decimal(value: float) -> str:
    """French writing: 12 or 12,5."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}".replace(".", ",")


def _regions(rows: list[SynthesisRow]) -> list[str]:
    seen = {c.region for r in rows for c in r.cras} | {code for r in rows for code in r.regions}
    return sorted(seen, key=lambda code: region_name(code))


def by_stage(rows: list[SynthesisRow]) -> Figure:
    counts = Counter(r.stage for r in rows)
    stages = [s for s in STAGE_ORDER if counts[s.value]]
    return Figure("etapes", "Dossiers par étape", "bar-chart", "Étape",
                  [STAGE_LABELS[s] for s in stages], [s.value for s in stages],
                  ["Dossiers"], ["dossiers"], [[counts[s.value] for s in stages]],
                  metric="ptce_synthesis_dossiers", row_label="stage")


def opinions_by_region(rows: list[SynthesisRow]) -> Figure:
    counts = Counter((c.region, c.state) for r in rows for c in r.cras)
    regions = sorted({region for region, _ in counts}, key=region_name)
    states = [s for s in OPINION_STATES if any(counts[(g, s)] for g in regions)]
    return Figure("avis", "Avis des CRA par région", "bar-chart", "Région",
                  [region_name(g) for g in regions], regions,
                  [OPINION_STATES[s] for s in states], states,
                  [[counts[(g, s)] for g in regions] for s in states], unit="avis", stacked=True,
                  metric="ptce_synthesis_cra_opinions", row_label="region", series_label="opinion")


def _decisions(title: str, id_: str, header: str, groups: list[tuple[str, str]],
               pairs: Counter[tuple[str, str]], metric: str, row_label: str) -> Figure:
    outcomes = [o.value for o in Outcome if any(pairs[(k, o.value)] for k, _ in groups)]
    return Figure(id_, title, "bar-chart", header, [label for _, label in groups],
                  [k for k, _ in groups], [DECISION_STATES[o] for o in outcomes], outcomes,
                  [[pairs[(k, o)] for k, _ in groups] for o in outcomes], stacked=True,
                  metric=metric, row_label=row_label, series_label="outcome")


def decisions_by_region(rows: list[SynthesisRow]) -> Figure:
    decided = [r for r in rows if r.outcome]
    pairs = Counter((region, r.decision) for r in decided for region in r.regions)
    groups = [(g, region_name(g)) for g in _regions(decided) if any(
        pairs[(g, o.value)] for o in Outcome)]
    return _decisions("Décisions par région", "decisions-region", "Région", groups, pairs,
                      "ptce_synthesis_decisions_by_region", "region")


def decisions_by_territory(rows: list[SynthesisRow]) -> Figure:
    def key(r: SynthesisRow) -> str:
        return "unknown" if r.fragile is None else ("fragile" if r.fragile else "other")

    decided = [r for r in rows if r.outcome]
    pairs = Counter((key(r), r.decision) for r in decided)
    labels = {"fragile": "Territoire fragile", "other": "Autre territoire",
              "unknown": "Non renseigné"}
    groups = [(k, label) for k, label in labels.items() if any(
        pairs[(k, o.value)] for o in Outcome)]
    return _decisions("Décisions par territoire fragile", "decisions-territoire",
                      "Territoire", groups, pairs, "ptce_synthesis_decisions_by_territory",
                      "territory")


def delays_by_region(rows: list[SynthesisRow]) -> Figure:
    """Days from the invitation to the CRA's first answer: the median and the slowest."""
    delays: dict[str, list[float]] = {}
    for r in rows:
        for c in r.cras:
            if c.delay_days is not None:
                delays.setdefault(c.region, []).append(c.delay_days)
    regions = sorted(delays, key=region_name)
    return Figure("delais", "Délai de réponse des CRA par région (jours depuis l’invitation)",
                  "bar-chart", "Région", [region_name(g) for g in regions], regions,
                  ["Médiane", "Le plus long"], ["median", "max"],
                  [[round(median(delays[g]), 1) for g in regions],
                   [round(max(delays[g]), 1) for g in regions]], unit="jours",
                  metric="ptce_synthesis_cra_answer_delay_days", row_label="region",
                  series_label="stat")


def filed_by_month(rows: list[SynthesisRow]) -> Figure:
    counts = Counter(f"{r.filed_at:%Y-%m}" for r in rows if r.filed_at)
    months = sorted(counts)
    if months:  # every month of the span, none missing
        year, month = map(int, months[0].split("-"))
        last, months = months[-1], []
        while f"{year:04d}-{month:02d}" <= last:
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    labels = [f"{MONTHS[int(m[5:]) - 1]} {m[:4]}" for m in months]
    return Figure("depots", "Dossiers déposés par mois", "line-chart", "Mois", labels, months,
                  ["Dossiers déposés"], ["filed"], [[counts[m] for m in months]],
                  metric="ptce_synthesis_dossiers_filed", row_label="month")


def figures(rows: list[SynthesisRow]) -> list[Figure]:
    return [by_stage(rows), opinions_by_region(rows), decisions_by_region(rows),
            decisions_by_territory(rows), delays_by_region(rows), filed_by_month(rows)]


def pending_since(rows: list[SynthesisRow], now: datetime) -> dict[str, float]:
    """Region -> days the oldest unanswered consultation has waited (who needs a nudge)."""
    waiting: dict[str, float] = {}
    for r in rows:
        for c in r.cras:
            if c.state == "pending" and c.invited_at is not None:
                days = (now - c.invited_at).total_seconds() / 86400
                waiting[c.region] = max(waiting.get(c.region, 0.0), round(days, 1))
    return dict(sorted(waiting.items(), key=lambda kv: region_name(kv[0])))

