"""The synthesis's figures as Prometheus gauges, for the API's ``/metrics``: the same function
computes the charts of the page's default selection (every open dossier, and those decided in
the last 12 months), so operations and BESSII read the same numbers."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge

from api.synthesis import charts, rows
from api.synthesis.query import SynthesisQuery
from core.db.engine import Database

HELP = {"ptce_synthesis_dossiers": "Synthèse : dossiers par étape",
        "ptce_synthesis_cra_opinions": "Synthèse : avis des CRA par région et par avis",
        "ptce_synthesis_decisions_by_region": "Synthèse : décisions par région",
        "ptce_synthesis_decisions_by_territory": "Synthèse : décisions par territoire fragile",
        "ptce_synthesis_cra_answer_delay_days": "Synthèse : délai de réponse des CRA (jours), "
                                                "médiane et maximum par région",
        "ptce_synthesis_dossiers_filed": "Synthèse : dossiers déposés par mois"}


async def collect(db: Database, registry: CollectorRegistry) -> None:
    selected = SynthesisQuery().select(await rows.load(db))
    for figure in charts.figures(selected):
        labels = [figure.row_label, *([figure.series_label] if figure.series_label else [])]
        gauge = Gauge(figure.metric, HELP[figure.metric], labels, registry=registry)
        for s, series_key in enumerate(figure.series_keys):
            for r, row_key in enumerate(figure.keys):
                values = [row_key, *([series_key] if figure.series_label else [])]
                gauge.labels(*values).set(figure.values[s][r])
