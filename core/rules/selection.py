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
