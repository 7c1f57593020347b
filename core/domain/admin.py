"""Admin amendments: each carries the acting admin and a reason (both go into the workflow's
history with the Update, and into the ``admin_actions`` audit table)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

from core.domain.cra import CraContact
from core.domain.procedure import Agent


def _reason(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("a reason is required")
    return value


class Amendment(BaseModel):
    agent: Agent
    reason: str = Field(max_length=2000)

    _reason = field_validator("reason")(_reason)


class DeadlineChange(Amendment):
    deadline: datetime


class MemberReplacement(Amendment):
    old_member_id: str = Field(min_length=1, max_length=80)
    new_member: CraContact


class LinkKind(StrEnum):
    INVITATION = "invitation"
    REMINDER = "reminder"


class LinkResend(Amendment):
    member_id: str = Field(min_length=1, max_length=80)
    kind: LinkKind = LinkKind.INVITATION


class ConsultationSkip(Amendment):
    pass


class Withdrawal(Amendment):
    """The applicant asked to withdraw: the dossier is closed *sans suite* with this motivation."""


class ReferentCorrection(Amendment):
    """A wrong referent address: the service writes to this one from now on (the platform's
    copy is not changed; every re-read of the dossier gets the correction again)."""

    referent_email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
