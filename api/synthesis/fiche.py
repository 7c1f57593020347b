"""The "fiche de synthèse" of one dossier, from the service's tables: its summary (last stored
snapshot), every CRA opinion with motivation and criteria, BESSII's admissibility and
eligibility, the decision. One template for the print page and the PDF (WeasyPrint, which
never fetches anything but local files).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.cra.summary import DossierSummary, summarize
from api.synthesis.rows import DECISION_STATES, CraOpinion, utc
from core.db.engine import Database
from core.db.repositories import SnapshotRepository
from core.db.synthesis import SynthesisRepository
from core.domain.dossier import Dossier, TerritoryFlags
from core.domain.procedure import STAGE_LABELS, AdmissibilityDecision, DecisionRequest, Stage
from core.domain.synthesis import EligibilitySynthesis
from core.rules.eligibility import CRITERION_LABELS
from core.rules.selection import APPRECIATION_LABELS, CRITERIA_GROUP_LABELS, SELECTION_LABELS

log = logging.getLogger("ptce.api.synthesis")
STYLESHEET = Path(__file__).resolve().parent.parent / "static" / "fiche.css"


@dataclass(frozen=True)
class Fiche:
    number: int
    project: str | None
    stage: str
    filed_at: datetime | None
    summary: DossierSummary | None
    cras: list[CraOpinion]
    admissibility: AdmissibilityDecision | None
    eligibility: EligibilitySynthesis | None
    decision: DecisionRequest | None
    decided_at: datetime | None
    generated_at: datetime

    @property
    def decision_label(self) -> str:
        return DECISION_STATES[self.decision.outcome.value if self.decision else "none"]


def _stage(value: str) -> str:
    return STAGE_LABELS[Stage(value)] if value in Stage.__members__.values() else value


async def load(db: Database, number: int) -> Fiche | None:
    async with db.unit_of_work() as session:
        repo = SynthesisRepository(session)
        record = await repo.get(number)
        if record is None:
            return None
        consultations = await repo.consultations_of(number)
        snapshots = await SnapshotRepository(session).list_for(number)
    data: dict[str, Any] = record.data or {}
    territory = TerritoryFlags.model_validate(data["territory"]) if data.get("territory") else None
    summary = (summarize(Dossier.model_validate(snapshots[-1].data), territory)
               if snapshots else None)
    order = {r: i for i, r in enumerate(record.regions or [])}
    cras = [CraOpinion(region=c.region, round=c.round, status=c.status, opinion=c.opinion,
                       author=c.author, answered_at=utc(c.answered_at),
                       invited_at=utc(c.invited_at), reminders_sent=c.reminders_sent,
                       appreciations=dict(c.appreciations or {}), motivation=c.motivation,
                       criteria_assessment=c.criteria_assessment)
            for c in sorted(consultations, key=lambda c: (order.get(c.region, 99), c.region))]
    return Fiche(
        number=number, project=record.project, stage=_stage(record.stage),
        filed_at=utc(record.filed_at), summary=summary, cras=cras,
        admissibility=(AdmissibilityDecision.model_validate(data["admissibility"])
                       if data.get("admissibility") else None),
        eligibility=(EligibilitySynthesis.model_validate(data["eligibility"])
                     if data.get("eligibility") else None),
        decision=DecisionRequest.model_validate(data["decision"]) if data.get("decision") else None,
        decided_at=utc(record.decided_at), generated_at=datetime.now(UTC))


def labels() -> dict[str, Any]:
    return {"criterion_labels": {c.value: label for c, label in CRITERION_LABELS.items()},
            "group_labels": {g.value: label for g, label in CRITERIA_GROUP_LABELS.items()},
            "appreciation_labels": {a.value: label for a, label in APPRECIATION_LABELS.items()},
            "selection_labels": {c.value: label for c, label in SELECTION_LABELS.items()}}


class PdfUnavailable(Exception):
    """WeasyPrint (or the Pango library it loads) is missing on this host."""


def render_pdf(html: str) -> bytes:
    """The print page's HTML as an A4 PDF; only local files may be read (never the network)."""
    try:
        from weasyprint import CSS, HTML
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as exc:  # OSError: Pango absent (apt libpango-1.0-0)
        log.warning("PDF rendering unavailable: %s", type(exc).__name__)
        raise PdfUnavailable(str(exc)) from exc
    fetcher = URLFetcher(allowed_protocols={"file"})
    document = HTML(string=html, base_url=str(STYLESHEET.parent) + "/", url_fetcher=fetcher)
    pdf: bytes = document.write_pdf(stylesheets=[CSS(filename=str(STYLESHEET),
                                                     url_fetcher=fetcher)])
    return pdf
