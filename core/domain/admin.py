"""Admin amendments: each carries the acting admin and a reason (both go into the workflow's
history with the Update, and into the ``admin_actions`` audit table)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

from core.domain.cra import CraContact
from core.domain.dossier import TerritoryFlags
from core.domain.procedure import Agent
from core.domain.regions import REGIONS, region_code


def _reason(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("le motif est obligatoire")
    return value


class Amendment(BaseModel):
    agent: Agent
    reason: str = Field(max_length=2000)

    _reason = field_validator("reason")(_reason)


class DeadlineChange(Amendment):
    deadline: datetime


class DeadlineNotice(BaseModel):
    """Consultation to dossier: an admin moved the deadline of this region's round."""

    region: str
    round: int = 1
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


def _regions(values: list[str]) -> list[str]:
    codes: list[str] = []
    for value in values:
        code = region_code(value)
        if code is None:
            raise ValueError(f"région inconnue : {value!r} (code INSEE ou nom de région)")
        codes.append(code)
    if not codes:
        raise ValueError("au moins une région est requise")
    return list(dict.fromkeys(codes))  # main region first, no duplicate


class RegionCorrection(Amendment):
    """The dossier's regions were wrong: the service uses these from now on (the platform's copy
    is not changed; every re-read of the dossier gets the correction again), main region first.

    ``territory``, when given, corrects the fragile-territory flags too (QPV, ZRR,
    deindustrialised employment area); when omitted they stay as they are.
    """

    regions: list[str] = Field(max_length=len(REGIONS))
    territory: TerritoryFlags | None = None

    _regions = field_validator("regions")(_regions)


class BackTo(StrEnum):
    """Where a dossier can be sent back to (only backwards, before BESSII's decision)."""

    ADMISSIBILITY = "admissibility"  # from the final instruction: admissibility to confirm again
    CONSULTATION = "consultation"  # the CRA(s) consulted again, in a new round


class SendBack(Amendment):
    """Send a dossier back to an earlier stage; ``regions`` (CONSULTATION only) names the
    committees consulted again, all of them when empty."""

    to: BackTo
    regions: list[str] = Field(default_factory=list, max_length=len(REGIONS))

    @field_validator("regions")
    @classmethod
    def _known_regions(cls, values: list[str]) -> list[str]:
        return _regions(values) if values else []


class BlockAction(StrEnum):
    """What an admin does with a step that retrying could not cure."""

    RETRY = "retry"  # the cause is fixed: run the step again
    SKIP = "skip"  # the step is done by hand (or not needed): go on without it
    CLOSE = "close"  # end the dossier (or the consultation) here, with the reason as motivation


class BlockResolution(Amendment):
    action: BlockAction
    block: int | None = None  # which block, when several wait at once (see the ``blocks`` query)


class Block(BaseModel):
    """A step parked after a failure that retrying cannot cure: what the UI and admins see."""

    id: int
    step: str  # stable, plaintext, no personal data (it is also the ``BlockedStep`` attribute)
    label: str  # French: what the service was doing
    error_type: str | None = None
    message: str  # the failure's message, personal data redacted
    since: datetime
    skippable: bool = True
    closable: bool = True  # only the run's own steps can end the execution
