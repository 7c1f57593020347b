"""Eligibility: a majority of the seven criteria met or planned in the medium term."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.rules.eligibility import Assessment, Criterion, EligibilityAssessment

assessments = st.dictionaries(st.sampled_from(list(Criterion)), st.sampled_from(list(Assessment)))


@given(assessments)
def test_majority_means_at_least_four_of_seven_met_or_planned(
    criteria: dict[Criterion, Assessment],
) -> None:
    result = EligibilityAssessment(criteria=criteria)
    positive = sum(1 for a in criteria.values() if a is not Assessment.NOT_MET)
    assert result.met_or_planned == positive
    assert result.majority == (positive >= 4)


@given(assessments, st.sampled_from(list(Criterion)))
def test_improving_a_criterion_never_loses_the_majority(
    criteria: dict[Criterion, Assessment], criterion: Criterion
) -> None:
    before = EligibilityAssessment(criteria=criteria).majority
    after = EligibilityAssessment(criteria={**criteria, criterion: Assessment.MET}).majority
    assert after or not before


def test_unassessed_criteria_count_as_not_met() -> None:
    three = {c: Assessment.MET for c in list(Criterion)[:3]}
    assert not EligibilityAssessment(criteria=three).majority
