"""What BESSII's synthesis reads of a dossier: a full snapshot the dossier workflow writes to
the database at each change that matters (stage, opinion, reminder, end of a consultation).

A snapshot is the whole truth at its ``version`` (the workflow time in microseconds, times 1000,
plus a counter: it only grows, and an admin's reset starts later than anything before it), so
the store keeps the newest one whatever the order in which retries arrive.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from core.domain.dossier import TerritoryFlags
from core.domain.procedure import AdmissibilityDecision, ConsultationStatus, DecisionRequest, Opinion
from core.rules.eligibility import EligibilityAssessment
from core.rules.selection import Appreciation, CriteriaGroup


class ConsultationSynthesis(BaseModel):
    """One CRA consultation (region, round) as the dossier knows it."""

    region: str
    round: int = 1
    status: ConsultationStatus = ConsultationStatus.PENDING
    opinion: Opinion | None = None
    motivation: str | None = None
    criteria_assessment: str | None = None
    appreciations: dict[CriteriaGroup, Appreciation] = Field(default_factory=dict)
    author: str | None = None  # "Name (role)" of the member who answered first
    answered_at: datetime | None = None
    amended_at: datetime | None = None
    invited_at: datetime | None = None
    deadline: datetime | None = None
    reminders_sent: int = 0


class EligibilitySynthesis(BaseModel):
    assessment: EligibilityAssessment
    by: str  # the agent's name


class DossierSynthesis(BaseModel):
    version: int
    project: str | None = None
    structure: str | None = None
    filed_at: datetime | None = None  # the platform's filing date
    regions: list[str] = Field(default_factory=list)
    territory: TerritoryFlags | None = None
    admissibility: AdmissibilityDecision | None = None
    eligibility: EligibilitySynthesis | None = None
    decision: DecisionRequest | None = None
    consultations: list[ConsultationSynthesis] = Field(default_factory=list)

    @property
    def fragile_territory(self) -> bool | None:
        return self.territory.any if self.territory is not None else None

    @property
    def eligibility_majority(self) -> bool | None:
        return self.eligibility.assessment.majority if self.eligibility else None
