"""The opinion form: parsing the posted body, French messages next to each field.

The rules stay in ``core.domain.cra.OpinionSubmission``; this module only translates its
verdicts for people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from pydantic import ValidationError

from core.domain.cra import OpinionSubmission, RecordedOpinion
from core.rules.selection import CriteriaGroup

FIELDS = ("opinion", "motivation", "criteria_assessment", "appreciations",
          "no_conflict_of_interest")


@dataclass(frozen=True)
class OpinionForm:
    opinion: str = ""
    motivation: str = ""
    criteria_assessment: str = ""
    # Group of selection criteria -> appreciation (optional; "" for none).
    appreciations: dict[str, str] = field(default_factory=dict)
    no_conflict_of_interest: bool = False
    csrf_token: str = ""

    @classmethod
    def parse(cls, body: bytes) -> OpinionForm:
        """An ``application/x-www-form-urlencoded`` body; unknown fields are ignored."""
        values = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True,
                          max_num_fields=20)

        def first(name: str) -> str:
            return values.get(name, [""])[0]

        return cls(opinion=first("opinion"), motivation=first("motivation"),
                   criteria_assessment=first("criteria_assessment"),
                   appreciations={g.value: first(f"appreciation_{g.value}") for g in CriteriaGroup
                                  if first(f"appreciation_{g.value}")},
                   no_conflict_of_interest=first("no_conflict_of_interest") == "oui",
                   csrf_token=first("csrf_token"))

    @classmethod
    def prefilled(cls, opinion: RecordedOpinion | None) -> OpinionForm:
        if opinion is None:
            return cls()
        return cls(opinion=opinion.opinion.value, motivation=opinion.motivation,
                   criteria_assessment=opinion.criteria_assessment or "",
                   appreciations={g.value: a.value for g, a in opinion.appreciations.items()})

    def validate(self, member_id: str) -> tuple[OpinionSubmission | None, dict[str, str]]:
        """The submission, or the errors by field (in the form's order)."""
        try:
            return OpinionSubmission(
                member_id=member_id, opinion=self.opinion,
                motivation=self.motivation,
                criteria_assessment=self.criteria_assessment.strip() or None,
                appreciations=self.appreciations,  # validated by the model
                no_conflict_of_interest=self.no_conflict_of_interest), {}
        except ValidationError as exc:
            errors: dict[str, str] = {}
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else ""
                if name in FIELDS and name not in errors:
                    errors[name] = _message(name, error["type"], error.get("ctx") or {})
            if not errors:  # e.g. member id: not the visitor's doing
                raise
            return None, {name: errors[name] for name in FIELDS if name in errors}


def _message(name: str, kind: str, ctx: dict[str, Any]) -> str:
    if kind == "string_too_long":
        limit = f"{int(ctx.get('max_length', 0)):_}".replace("_", "\u202f")
        what = "La motivation" if name == "motivation" else "L’appréciation des critères"
        return f"{what} ne doit pas dépasser {limit} caractères."
    return {
        "opinion": "Choisissez l’avis de la CRA.",
        "motivation": "Saisissez la motivation de l’avis.",
        "criteria_assessment": "L’appréciation des critères n’est pas valide.",
        "appreciations": "Choisissez chaque appréciation dans la liste proposée.",
        "no_conflict_of_interest": "Cochez la déclaration d’absence de conflit d’intérêts "
                                   "pour rendre l’avis.",
    }[name]


def unchanged(submission: OpinionSubmission, current: RecordedOpinion | None) -> bool:
    """True when sending would only repeat what is recorded (a double submit, say)."""
    return current is not None and (
        current.opinion is submission.opinion and current.motivation == submission.motivation
        and (current.criteria_assessment or None) == submission.criteria_assessment
        and current.appreciations == submission.appreciations)
