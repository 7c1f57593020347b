"""Current details shown in the Temporal UI at each step: a pure function of workflow state."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from core.domain.cra import ConsultationView, CraContact
from core.domain.procedure import OPINION_LABELS, STAGE_LABELS, ConsultationStatus, Stage
from core.domain.regions import region_name
from core.summaries import format_utc

_CONSULTATION_LABELS = {
    ConsultationStatus.PENDING: "en attente",
    ConsultationStatus.ANSWERED: "avis rendu",
    ConsultationStatus.NO_RESPONSE: "sans réponse à l’échéance",
    ConsultationStatus.SKIPPED: "close sans avis",
}


def _who(member_id: str, members: list[CraContact]) -> str:
    found = next((m for m in members if m.id == member_id), None)
    return f"{found.name} ({found.role})" if found else member_id


def _answered_by(c: ConsultationView, members: list[CraContact]) -> str:
    if c.opinion is None:
        return "—"
    who = _who(c.opinion.written_by, members)
    amended = list(dict.fromkeys(c.opinion.amended_by))
    if amended:
        who += ", modifié par " + ", ".join(_who(m, members) for m in amended)
    return who


def current_details(stage: Stage, deadline: datetime | None,
                    consultations: list[ConsultationView], next_step: str,
                    members: Mapping[str, list[CraContact]] | None = None) -> str:
    """``members``: each region's pair, to name who answered (else the member's id)."""
    lines = [f"**Étape** : {STAGE_LABELS[stage]}", f"**Échéance de l’étape** : {format_utc(deadline)}",
             f"**Prochaine étape** : {next_step}"]
    if consultations:
        lines += ["", "| CRA | État | Avis | Rendu par | Relances envoyées | Échéance |",
                  "|---|---|---|---|---|---|"]
        for c in consultations:
            opinion = OPINION_LABELS[c.opinion.opinion] if c.opinion else "—"
            pair = (members or {}).get(c.region, [])
            lines.append(f"| {region_name(c.region)} | {_CONSULTATION_LABELS[c.status]} | "
                         f"{opinion} | {_answered_by(c, pair)} | {c.reminders_sent} | "
                         f"{format_utc(c.deadline)} |")
    return "\n".join(lines)
