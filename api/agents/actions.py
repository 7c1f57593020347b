"""The three actions of BESSII, as JSON bodies and as posted forms, turned into the workflow's
Update payloads with the acting agent's identity (taken from the session, never the body)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from api.errors import ApiError
from core.domain.dossier import TerritoryFlags
from core.domain.procedure import AdmissibilityDecision, Agent, DecisionRequest, Outcome
from core.rules.eligibility import Assessment, Criterion, EligibilityAssessment
from core.rules.selection import SelectionCriterion
from workflows.payloads import EligibilityRecord

FLAGS = ("qpv", "zrr", "deindustrialised")


class Invalid(ApiError):
    status_code = 422
    code = "invalid"


class AdmissibilityBody(BaseModel):
    admissible: bool
    reason: str = Field(max_length=5000, description="Motif (obligatoire)")
    territory: TerritoryFlags | None = Field(
        default=None, description="Lecture par le BESSII des territoires fragiles")


class EligibilityBody(BaseModel):
    criteria: dict[Criterion, Assessment]


class DecisionBody(BaseModel):
    outcome: Outcome
    motivation: str = Field(default="", max_length=10000)
    override_reason: str | None = Field(
        default=None, max_length=5000,
        description="Motif d’une décision prise avant la fin de la consultation des CRA")
    scores: dict[SelectionCriterion, int] = Field(default_factory=dict)


def _build(model: type[Any], **values: Any) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "requête" for e in exc.errors())
        raise Invalid(f"données invalides : {fields}") from exc


def admissibility(agent: Agent, body: AdmissibilityBody) -> AdmissibilityDecision:
    decision: AdmissibilityDecision = _build(AdmissibilityDecision, agent=agent,
                                             **body.model_dump())
    return decision


def eligibility(agent: Agent, body: EligibilityBody) -> EligibilityRecord:
    return EligibilityRecord(agent=agent, assessment=EligibilityAssessment(criteria=body.criteria))


def decision(agent: Agent, body: DecisionBody) -> DecisionRequest:
    override = (body.override_reason or "").strip() or None
    request: DecisionRequest = _build(DecisionRequest, agent=agent,
                                      **body.model_dump(exclude={"override_reason"}),
                                      override_reason=override)
    return request


# ----------------------------------------------------------------- forms

Form = Mapping[str, Any]


def _text(form: Form, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def admissibility_form(form: Form) -> tuple[AdmissibilityBody | None, dict[str, str]]:
    errors: dict[str, str] = {}
    verdict, reason = _text(form, "admissible"), _text(form, "reason")
    if verdict not in ("oui", "non"):
        errors["admissible"] = "Indiquez si le dossier est recevable."
    if not reason:
        errors["reason"] = "Indiquez le motif de la décision de recevabilité."
    elif len(reason) > 5000:
        errors["reason"] = "Le motif dépasse 5 000 caractères."
    if errors:
        return None, errors
    territory = TerritoryFlags(**{flag: form.get(flag) == "oui" for flag in FLAGS})
    return AdmissibilityBody(admissible=verdict == "oui", reason=reason, territory=territory), {}


def eligibility_form(form: Form) -> tuple[EligibilityBody | None, dict[str, str]]:
    criteria: dict[Criterion, Assessment] = {}
    for criterion in Criterion:
        value = _text(form, f"criterion_{criterion.value}")
        if value in Assessment.__members__.values():
            criteria[criterion] = Assessment(value)
    missing = len(Criterion) - len(criteria)
    if missing:
        return None, {"criteria": f"Évaluez chacun des sept critères ({missing} sans réponse)."}
    return EligibilityBody(criteria=criteria), {}


def decision_form(form: Form) -> tuple[DecisionBody | None, dict[str, str]]:
    errors: dict[str, str] = {}
    outcome = _text(form, "outcome")
    motivation, override = _text(form, "motivation"), _text(form, "override_reason")
    if outcome not in Outcome.__members__.values():
        errors["outcome"] = "Choisissez la décision."
    elif outcome != Outcome.LAUREAT and not motivation:
        errors["motivation"] = "La motivation est obligatoire pour refuser ou classer sans suite."
    if len(motivation) > 10000:
        errors["motivation"] = "La motivation dépasse 10 000 caractères."
    if len(override) > 5000:
        errors["override_reason"] = "Le motif dépasse 5 000 caractères."
    scores: dict[SelectionCriterion, int] = {}
    for criterion in SelectionCriterion:
        value = _text(form, f"score_{criterion.value}")
        if value:
            if value not in {"0", "1", "2", "3", "4", "5"}:
                errors["scores"] = "Chaque note va de 0 à 5."
            else:
                scores[criterion] = int(value)
    if errors:
        return None, errors
    return DecisionBody(outcome=Outcome(outcome), motivation=motivation,
                        override_reason=override or None, scores=scores), {}
