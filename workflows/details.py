"""Current details shown in the Temporal UI at each step: a pure function of workflow state."""

from __future__ import annotations

from datetime import datetime

from core.domain.cra import ConsultationView
from core.domain.procedure import OPINION_LABELS, STAGE_LABELS, ConsultationStatus, Stage
from core.domain.regions import region_name
from core.summaries import format_utc

_CONSULTATION_LABELS = {
    ConsultationStatus.PENDING: "en attente",
    ConsultationStatus.ANSWERED: "avis rendu",
    ConsultationStatus.NO_RESPONSE: "sans réponse à l’échéance",
    ConsultationStatus.SKIPPED: "close sans avis",
}



def current_details(stage: Stage, deadline: datetime | None,
                    consultations: list[ConsultationView], next_step: str) -> str:
    lines = [f"**Étape** : {STAGE_LABELS[stage]}", f"**Échéance de l’étape** : {format_utc(deadline)}",
             f"**Prochaine étape** : {next_step}"]
    if consultations:
        lines += ["", "| CRA | État | Avis | Échéance |", "|---|---|---|---|"]
        for c in consultations:
            opinion = OPINION_LABELS[c.opinion.opinion] if c.opinion else "—"
            who = f" ({c.opinion.written_by})" if c.opinion else ""
            lines.append(f"| {region_name(c.region)} | {_CONSULTATION_LABELS[c.status]} | "
                         f"{opinion}{who} | {format_utc(c.deadline)} |")
    return "\n".join(lines)
