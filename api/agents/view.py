"""What the dossier page shows, gathered from the ``status`` query and the CRA directory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.cra.summary import DossierSummary, summarize
from core.db.engine import Database
from core.db.repositories import CraMemberRepository
from core.domain.procedure import OUTCOME_LABELS, ConsultationStatus, Outcome, Stage
from core.rules.eligibility import CRITERION_LABELS, Assessment
from core.rules.selection import SELECTION_LABELS
from workflows.payloads import DossierStatus

ASSESSMENT_LABELS = {Assessment.MET: "Rempli", Assessment.PLANNED: "Prévu à moyen terme",
                     Assessment.NOT_MET: "Non rempli"}
CONSULTATION_LABELS = {ConsultationStatus.PENDING: "En attente de l’avis",
                       ConsultationStatus.ANSWERED: "Avis rendu",
                       ConsultationStatus.NO_RESPONSE: "Sans réponse à l’échéance",
                       ConsultationStatus.SKIPPED: "Non consultée"}
FLAG_LABELS = [("qpv", "Quartier prioritaire de la politique de la ville (QPV)"),
               ("zrr", "Zone de revitalisation rurale (ZRR)"),
               ("deindustrialised", "Bassin d’emploi désindustrialisé")]


@dataclass(frozen=True)
class DossierView:
    status: DossierStatus
    summary: DossierSummary | None
    members: dict[str, str]  # CRA member id -> "Name (role)"
    can_admit: bool
    can_assess: bool
    can_decide: bool
    consultation_open: bool

    def who(self, member_id: str | None) -> str:
        return self.members.get(member_id or "", member_id or "")


async def build(status: DossierStatus, db: Database) -> DossierView:
    ids: set[str] = set()
    for c in status.consultations:
        if c.opinion:
            ids |= {c.opinion.written_by, *c.opinion.amended_by}
    ids |= {s.by for s in status.steps if s.by}
    members: dict[str, str] = {}
    async with db.unit_of_work() as session:
        repo = CraMemberRepository(session)
        for member_id in sorted(ids):
            member = await repo.get(member_id)
            if member is not None:
                members[member_id] = f"{member.name} ({member.role})"
    stage = status.stage
    return DossierView(
        status=status,
        summary=summarize(status.dossier, status.territory) if status.dossier else None,
        members=members,
        can_admit=stage is Stage.ADMISSIBILITY and status.admissibility is None,
        can_assess=stage in (Stage.ADMISSIBILITY, Stage.INSTRUCTION),
        can_decide=stage is Stage.INSTRUCTION and status.decision is None,
        consultation_open=any(c.status is ConsultationStatus.PENDING for c in status.consultations))


def labels() -> dict[str, Any]:
    return {"criteria": list(CRITERION_LABELS.items()), "assessments": list(ASSESSMENT_LABELS.items()),
            "selection": list(SELECTION_LABELS.items()), "consultation_labels": CONSULTATION_LABELS,
            "outcomes": [(o.value, OUTCOME_LABELS[o].capitalize()) for o in Outcome],
            "flag_labels": FLAG_LABELS}
