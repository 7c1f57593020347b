"""The dossier as the service understands it, mapped from the platform's champs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from core.addresses import single_address


class LegalForm(StrEnum):
    COOPERATIVE = "cooperative"
    ASSOCIATION = "association"
    COMMERCIAL_COMPANY = "commercial_company"
    OTHER = "other"


class PlatformState(StrEnum):
    """``DossierState`` of the platform."""

    EN_CONSTRUCTION = "en_construction"
    EN_INSTRUCTION = "en_instruction"
    ACCEPTE = "accepte"
    REFUSE = "refuse"
    SANS_SUITE = "sans_suite"


class Referent(BaseModel):
    last_name: str | None = None
    first_name: str | None = None
    role: str | None = None
    email: str | None = None
    phone: str | None = None

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class CarryingStructure(BaseModel):
    name: str | None = None
    address: str | None = None
    legal_form: LegalForm | None = None
    esus_approved: bool | None = None
    statutes: list[str] = Field(default_factory=list)


class Descriptions(BaseModel):
    """Annexe 1 narrative sections; the last three of the call are optional."""

    structure: str | None = None
    objectives: str | None = None
    actors: str | None = None
    governance: str | None = None
    territory: str | None = None
    actions: str | None = None
    financing: str | None = None
    action_plan: str | None = None
    members_involvement: str | None = None
    networking: str | None = None


class TerritoryFlags(BaseModel):
    """Fragile territories the call pays particular attention to."""

    qpv: bool = False
    zrr: bool = False
    deindustrialised: bool = False

    @property
    def any(self) -> bool:
        return self.qpv or self.zrr or self.deindustrialised


class Dossier(BaseModel):
    number: int
    demarche: int
    platform_id: str
    platform_state: PlatformState
    updated_at: datetime
    deposited_at: datetime | None = None
    applicant_email: str | None = None
    pending_correction: bool = False
    project_name: str | None = None
    regions: list[str] = Field(default_factory=list)  # INSEE codes, main region first
    structure: CarryingStructure = CarryingStructure()
    referent: Referent = Referent()
    descriptions: Descriptions = Descriptions()
    territory: TerritoryFlags = TerritoryFlags()

    @property
    def contact_emails(self) -> list[str]:
        """Referent first, then the platform account if different; only what is one valid
        address each (an invalid referent field leaves the platform account alone)."""
        emails = [e for e in (self.referent.email, self.applicant_email)
                  if e and single_address(e) is not None]
        return list(dict.fromkeys(emails))
