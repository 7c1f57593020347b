"""Eligibility: a project must meet, or plan to meet in the medium term, a majority of the
seven criteria of the call (section 5.c.ii)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class Criterion(StrEnum):
    GROUPING = "grouping"
    TERRITORIAL_ANCHORING = "territorial_anchoring"
    SOCIAL_INNOVATION = "social_innovation"
    QUALITY_JOBS = "quality_jobs"
    RESPECTFUL_ACTIVITIES = "respectful_activities"
    LOCAL_RESOURCES = "local_resources"
    CITIZEN_INVOLVEMENT = "citizen_involvement"


CRITERION_LABELS: dict[Criterion, str] = {
    Criterion.GROUPING: "Regroupement d’acteurs de l’ESS et d’entreprises sur un même territoire",
    Criterion.TERRITORIAL_ANCHORING: "Ancrage territorial des activités économiques",
    Criterion.SOCIAL_INNOVATION: "Recherche et développement territorial, innovation sociale",
    Criterion.QUALITY_JOBS: "Création ou consolidation d’emplois durables et de qualité",
    Criterion.RESPECTFUL_ACTIVITIES: "Activités respectueuses des humains et de l’environnement",
    Criterion.LOCAL_RESOURCES: "Valorisation d’une diversité de ressources locales",
    Criterion.CITIZEN_INVOLVEMENT: "Implication de citoyens, d’acteurs et d’institutions",
}


class Assessment(StrEnum):
    MET = "met"
    PLANNED = "planned"  # planned in the medium term
    NOT_MET = "not_met"


class EligibilityAssessment(BaseModel):
    criteria: dict[Criterion, Assessment] = Field(default_factory=dict)

    @property
    def met_or_planned(self) -> int:
        return sum(1 for a in self.criteria.values() if a is not Assessment.NOT_MET)

    @property
    def majority(self) -> bool:
        """A criterion not assessed counts as not met."""
        return self.met_or_planned * 2 > len(Criterion)
