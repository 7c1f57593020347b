"""Markdown shown in the Temporal UI: static details at start, current details at each step.
Pure functions of workflow state (deterministic)."""

from __future__ import annotations

from datetime import datetime

from core.domain.cra import ConsultationView
from core.domain.dossier import Dossier
from core.domain.procedure import OPINION_LABELS, STAGE_LABELS, ConsultationStatus, Stage
from core.domain.regions import region_name

_CONSULTATION_LABELS = {
    ConsultationStatus.PENDING: "en attente",
    ConsultationStatus.ANSWERED: "avis rendu",
    ConsultationStatus.NO_RESPONSE: "sans réponse à l’échéance",
    ConsultationStatus.SKIPPED: "close sans avis",
}


def _date(d: datetime | None) -> str:
    return d.strftime("%d/%m/%Y %H:%M UTC") if d else "—"


def summary(number: int, dossier: Dossier | None) -> str:
    if dossier is None:
        return f"Dossier n° {number}"
    regions = ", ".join(region_name(r) for r in dossier.regions) or "région non renseignée"
    return f"n° {number} · {dossier.project_name or 'projet sans nom'} · {regions}"


def static_details(dossier: Dossier) -> str:
    rows = [
        ("Projet", dossier.project_name or "—"),
        ("Structure porteuse", dossier.structure.name or "—"),
        ("Forme juridique", dossier.structure.legal_form or "—"),
        ("Région(s)", ", ".join(region_name(r) for r in dossier.regions) or "—"),
        ("Territoire fragile", "oui" if dossier.territory.any else "non"),
        ("Déposé le", _date(dossier.deposited_at)),
    ]
    lines = ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    return "\n".join(lines)


def current_details(stage: Stage, deadline: datetime | None,
                    consultations: list[ConsultationView], next_step: str) -> str:
    lines = [f"**Étape** : {STAGE_LABELS[stage]}", f"**Échéance de l’étape** : {_date(deadline)}",
             f"**Prochaine étape** : {next_step}"]
    if consultations:
        lines += ["", "| CRA | État | Avis | Échéance |", "|---|---|---|---|"]
        for c in consultations:
            opinion = OPINION_LABELS[c.opinion.opinion] if c.opinion else "—"
            who = f" ({c.opinion.written_by})" if c.opinion else ""
            lines.append(f"| {region_name(c.region)} | {_CONSULTATION_LABELS[c.status]} | "
                         f"{opinion}{who} | {_date(c.deadline)} |")
    return "\n".join(lines)
