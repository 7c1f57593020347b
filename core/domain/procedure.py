"""Stages, decisions and opinions of the AMI PTCE procedure."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator, model_validator

from core.domain.dossier import TerritoryFlags
from core.domain.policy import Policy
from core.rules.selection import SelectionCriterion


class Stage(StrEnum):
    RECEIVED = "received"
    AWAITING_CORRECTION = "awaiting_correction"
    ADMISSIBILITY = "admissibility"
    INSTRUCTION = "instruction"
    NOTIFICATION = "notification"
    CLOSED = "closed"


STAGE_LABELS: dict[Stage, str] = {
    Stage.RECEIVED: "Réception",
    Stage.AWAITING_CORRECTION: "En attente de complétude",
    Stage.ADMISSIBILITY: "Examen de la recevabilité",
    Stage.INSTRUCTION: "Instruction finale",
    Stage.NOTIFICATION: "Notification",
    Stage.CLOSED: "Clos",
}


class Outcome(StrEnum):
    LAUREAT = "laureat"
    NON_RETENU = "non_retenu"
    SANS_SUITE = "sans_suite"


OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.LAUREAT: "lauréat",
    Outcome.NON_RETENU: "non retenu",
    Outcome.SANS_SUITE: "classé sans suite",
}


class Opinion(StrEnum):
    FAVOURABLE = "favourable"
    FAVOURABLE_WITH_RESERVATIONS = "favourable_with_reservations"
    UNFAVOURABLE = "unfavourable"


OPINION_LABELS: dict[Opinion, str] = {
    Opinion.FAVOURABLE: "favorable",
    Opinion.FAVOURABLE_WITH_RESERVATIONS: "favorable avec réserves",
    Opinion.UNFAVOURABLE: "défavorable",
}


class ConsultationStatus(StrEnum):
    PENDING = "pending"
    ANSWERED = "answered"
    NO_RESPONSE = "no_response"
    SKIPPED = "skipped"


class Agent(BaseModel):
    """A BESSII agent or admin acting on a dossier; identity as the sign-in gave it."""

    id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)


def _required_text(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    return value


class AdmissibilityDecision(BaseModel):
    agent: Agent
    admissible: bool
    reason: str = Field(max_length=5000)
    territory: TerritoryFlags | None = None  # BESSII's reading of the fragile-territory flags

    _reason = field_validator("reason")(_required_text)


class DecisionRequest(BaseModel):
    agent: Agent
    outcome: Outcome
    motivation: str = Field(default="", max_length=10000)
    scores: dict[SelectionCriterion, int] = Field(default_factory=dict)  # 0..5 each
    override_reason: str | None = Field(default=None, max_length=5000)

    @model_validator(mode="after")
    def _motivation_where_the_platform_requires_it(self) -> DecisionRequest:
        self.motivation = self.motivation.strip()
        if self.outcome is not Outcome.LAUREAT and not self.motivation:
            raise ValueError("a motivation is required to refuse or close a dossier")
        if any(not 0 <= v <= 5 for v in self.scores.values()):
            raise ValueError("scores range from 0 to 5")
        return self


class DossierInput(BaseModel):
    """What starts a dossier's workflow: the platform's number and the policy in force."""

    number: int
    demarche: int
    policy: Policy = Policy()


class DossierChanged(BaseModel):
    """The platform says the dossier changed; the workflow re-reads it, never trusts this."""

    updated_at: datetime | None = None
    deleted: bool = False  # purged (``deletedDossiers``): gone for good
    hidden: bool = False  # deleted by its applicant (``pendingDeletedDossiers``): restorable


class FinalRecord(BaseModel):
    number: int
    outcome: Outcome
    motivation: str
    decided_by: str | None
    decided_at: datetime
    opinions: dict[str, str] = Field(default_factory=dict)  # region -> status/opinion
