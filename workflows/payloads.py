"""Payloads that cross the workflow boundary: inputs, results, updates, queries."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from core.domain.cra import ConsultationView, CraContact, OpinionSubmission, RecordedOpinion
from core.domain.dossier import Dossier, TerritoryFlags
from core.domain.procedure import (
    AdmissibilityDecision,
    Agent,
    ConsultationStatus,
    DecisionRequest,
    DossierChanged,
    DossierInput,
    Outcome,
    Stage,
)
from core.rules.completeness import CompletenessReport
from core.rules.eligibility import EligibilityAssessment

__all__ = [
    "AdmissibilityDecision", "ConsultationInput", "ConsultationResult", "DecisionRequest",
    "DossierChanged", "DossierInput", "DossierResult", "DossierStatus", "EligibilityRecord",
    "MembersNotice", "OpinionNotice", "OpinionSubmission", "ReminderNotice", "Step", "UpdateAck",
]


class ConsultationInput(BaseModel):
    number: int
    demarche: int
    region: str
    round: int = 1
    members: list[CraContact]
    deadline: datetime
    reminders: list[datetime]
    project: str | None = None
    structure: str | None = None


class CloseRequest(BaseModel):
    """The ``close`` signal's payload: encrypted like every payload, so only a holder of the
    codec key can close a consultation (a bare signal carries nothing to refuse)."""

    why: str = "decided"


class ConsultationResult(BaseModel):
    region: str
    status: ConsultationStatus
    opinion: RecordedOpinion | None = None
    reminders_sent: int = 0


class ConsultationPage(BaseModel):
    """What the CRA answer page needs, in one query (one round trip through a worker)."""

    consultation: ConsultationResult
    deadline: datetime
    members: list[CraContact] = Field(default_factory=list)  # the pair now (after replacements)


class OpinionNotice(BaseModel):
    """Child to parent: the region's opinion was recorded or amended."""

    region: str
    opinion: RecordedOpinion
    round: int = 1  # a consultation re-opened by an admin runs in a new round


class ReminderNotice(BaseModel):
    """Child to parent: the region's pair was reminded (the count so far)."""

    region: str
    round: int = 1
    reminders_sent: int


class MembersNotice(BaseModel):
    """Child to parent: an admin replaced a member of the region's pair."""

    region: str
    members: list[CraContact]


class EligibilityRecord(BaseModel):
    agent: Agent
    assessment: EligibilityAssessment


class Step(BaseModel):
    """One line of the dossier's story, for the agents' pages."""

    at: datetime
    what: str  # French
    by: str | None = None


class DossierStatus(BaseModel):
    number: int
    stage: Stage
    stage_deadline: datetime | None = None
    dossier: Dossier | None = None
    completeness: CompletenessReport | None = None
    admissibility: AdmissibilityDecision | None = None
    eligibility: EligibilityRecord | None = None
    eligibility_majority: bool | None = None
    territory: TerritoryFlags | None = None
    consultations: list[ConsultationView] = Field(default_factory=list)
    decision: DecisionRequest | None = None
    steps: list[Step] = Field(default_factory=list)


class UpdateAck(BaseModel):
    """What an agent's or an admin's Update on a dossier returns: small (the dossier itself is
    read with the ``status`` query). ``applied`` is False for a retry of a request (same Update
    id) applied already: it changed nothing."""

    update: str
    stage: Stage | None = None
    applied: bool = True


class DossierResult(BaseModel):
    number: int
    outcome: Outcome | None  # None: withdrawn by the applicant (deleted on the platform)
    motivation: str
    decided_by: str | None = None
    consultations: list[ConsultationView] = Field(default_factory=list)
