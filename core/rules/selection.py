"""The twelve selection criteria of the call (section 5.c.iii), scored by BESSII from 0 to 5."""

from __future__ import annotations

from enum import StrEnum


class SelectionCriterion(StrEnum):
    CREDIBILITY = "credibility"
    POSITIONING = "positioning"
    COHERENCE = "coherence"
    ADDED_VALUE = "added_value"
    INNOVATION = "innovation"
    ACTION_PLAN = "action_plan"
    RESOURCES = "resources"
    SUSTAINABILITY = "sustainability"
    INDICATORS = "indicators"
    EXEMPLARITY = "exemplarity"
    SOCIAL_UTILITY = "social_utility"
    JOBS = "jobs"


SELECTION_LABELS: dict[SelectionCriterion, str] = {
    SelectionCriterion.CREDIBILITY: "Crédibilité, expériences, compétences et professionnalisme",
    SelectionCriterion.POSITIONING: "Analyse de positionnement stratégique et partenariats",
    SelectionCriterion.COHERENCE: "Cohérence des objectifs, de la coopération et de la mutualisation",
    SelectionCriterion.ADDED_VALUE: "Valeur ajoutée économique, sociale et environnementale",
    SelectionCriterion.INNOVATION: "Caractère innovant du PTCE",
    SelectionCriterion.ACTION_PLAN: "Qualité et cohérence du plan d’action",
    SelectionCriterion.RESOURCES: "Moyens financiers et autres ressources",
    SelectionCriterion.SUSTAINABILITY: "Pérennité et autonomie financière à moyen terme",
    SelectionCriterion.INDICATORS: "Indicateurs de suivi et d’évaluation",
    SelectionCriterion.EXEMPLARITY: "Caractère exemplaire, impacts durables sur le territoire",
    SelectionCriterion.SOCIAL_UTILITY: "Utilité sociale et environnementale dans le territoire",
    SelectionCriterion.JOBS: "Emplois créés ou maintenus",
}


class CriteriaGroup(StrEnum):
    """The three headings of the selection criteria (section 5.c.iii)."""

    VISION = "vision"
    OPERATIONS = "operations"
    RESULTS = "results"


CRITERIA_GROUP_LABELS: dict[CriteriaGroup, str] = {
    CriteriaGroup.VISION: "Vision stratégique et objectifs",
    CriteriaGroup.OPERATIONS: "Opérationnalité",
    CriteriaGroup.RESULTS: "Évaluation des résultats et impacts",
}

CRITERIA_GROUPS: dict[CriteriaGroup, tuple[SelectionCriterion, ...]] = {
    CriteriaGroup.VISION: (SelectionCriterion.CREDIBILITY, SelectionCriterion.POSITIONING,
                           SelectionCriterion.COHERENCE, SelectionCriterion.ADDED_VALUE,
                           SelectionCriterion.INNOVATION),
    CriteriaGroup.OPERATIONS: (SelectionCriterion.ACTION_PLAN, SelectionCriterion.RESOURCES,
                               SelectionCriterion.SUSTAINABILITY),
    CriteriaGroup.RESULTS: (SelectionCriterion.INDICATORS, SelectionCriterion.EXEMPLARITY,
                            SelectionCriterion.SOCIAL_UTILITY, SelectionCriterion.JOBS),
}


class Appreciation(StrEnum):
    """A CRA's optional appreciation of one group of criteria, on a four-step scale."""

    VERY_GOOD = "very_good"
    GOOD = "good"
    FAIR = "fair"
    INSUFFICIENT = "insufficient"


APPRECIATION_LABELS: dict[Appreciation, str] = {
    Appreciation.VERY_GOOD: "Très satisfaisant",
    Appreciation.GOOD: "Satisfaisant",
    Appreciation.FAIR: "Perfectible",
    Appreciation.INSUFFICIENT: "Insuffisant",
}

# What sorting and averages use: 4 the best, 1 the weakest.
APPRECIATION_SCORES: dict[Appreciation, int] = {
    Appreciation.VERY_GOOD: 4, Appreciation.GOOD: 3, Appreciation.FAIR: 2,
    Appreciation.INSUFFICIENT: 1,
}
