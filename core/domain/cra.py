"""Regional committees (CRA): a pair per region, and their opinions."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from core.domain.procedure import ConsultationStatus, Opinion
from core.rules.selection import Appreciation, CriteriaGroup


class CraContact(BaseModel):
    id: str
    region: str
    name: str
    email: str
    role: str


class OpinionSubmission(BaseModel):
    """What a CRA member sends through their personal link."""

    member_id: str = Field(min_length=1, max_length=80)
    opinion: Opinion
    motivation: str = Field(max_length=10000)
    criteria_assessment: str | None = Field(default=None, max_length=10000)
    # Optional, one per group of the call's selection criteria (opinions before it have none).
    appreciations: dict[CriteriaGroup, Appreciation] = Field(default_factory=dict)
    no_conflict_of_interest: bool

    @field_validator("motivation")
    @classmethod
    def _motivation_required(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("la motivation est obligatoire")
        return value

    @field_validator("no_conflict_of_interest")
    @classmethod
    def _declaration_required(cls, value: bool) -> bool:
        if not value:
            raise ValueError("la déclaration d’absence de conflit d’intérêts est obligatoire")
        return value


class RecordedOpinion(BaseModel):
    opinion: Opinion
    motivation: str
    criteria_assessment: str | None = None
    appreciations: dict[CriteriaGroup, Appreciation] = Field(default_factory=dict)
    written_by: str
    written_at: datetime
    amended_by: list[str] = Field(default_factory=list)
    amended_at: datetime | None = None


class ConsultationView(BaseModel):
    """One region's consultation as the dossier sees it."""

    region: str
    status: ConsultationStatus = ConsultationStatus.PENDING
    deadline: datetime | None = None
    opinion: RecordedOpinion | None = None
    reminders_sent: int = 0  # so far: the consultation reports each one (reminder-notice-v1)
    invited_at: datetime | None = None  # when the consultation opened (the invitation)
