"""Admissibility rules of Annexe 1, stated as properties."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from core.domain.dossier import Dossier, LegalForm, PlatformState
from core.domain.policy import LengthBudgets
from core.rules.completeness import IssueKind, check_completeness

BUDGETS = LengthBudgets(page_chars=3000, line_chars=100)
LIMITS = {"structure": 3000, "objectives": 3000, "actors": 6000, "governance": 1500,
          "territory": 1500, "actions": 3000, "financing": 3000, "action_plan": 3000,
          "members_involvement": 3000, "networking": 3000}
REQUIRED = {"structure", "objectives", "actors", "governance", "territory", "actions", "financing"}
OPTIONAL = set(LIMITS) - REQUIRED


def complete(**changes: Any) -> Dossier:
    data: dict[str, Any] = {
        "number": 1, "demarche": 1001, "platform_id": "RG9zc2llci0x",
        "platform_state": PlatformState.EN_CONSTRUCTION, "updated_at": datetime.now(UTC),
        "project_name": "Pôle", "regions": ["53"],
        "structure": {"name": "Asso", "address": "1 rue", "legal_form": "association",
                      "statutes": ["statuts.pdf"]},
        "referent": {"last_name": "Le Goff", "first_name": "Maëlle", "role": "Coordinatrice",
                     "email": "m@example.org", "phone": "0612345678"},
        "descriptions": {k: "Texte." for k in REQUIRED},
    }
    for key, value in changes.items():
        section, _, attr = key.partition("__")
        if attr:
            data[section] = {**data[section], attr: value}
        else:
            data[section] = value
    return Dossier.model_validate(data)


def test_a_complete_dossier_has_no_issue() -> None:
    assert check_completeness(complete(), BUDGETS).complete


@given(st.sampled_from(sorted(REQUIRED)), st.sampled_from([None, "", "   \n"]))
def test_each_required_description_missing_is_reported(section: str, value: str | None) -> None:
    report = check_completeness(complete(**{f"descriptions__{section}": value}), BUDGETS)
    assert [(i.field, i.kind) for i in report.issues] == [
        (f"descriptions.{section}", IssueKind.MISSING)]


@given(st.sampled_from(sorted(OPTIONAL)))
def test_optional_sections_may_be_absent(section: str) -> None:
    assert check_completeness(complete(**{f"descriptions__{section}": None}), BUDGETS).complete


@given(st.sampled_from(sorted(LIMITS)), st.integers(min_value=1, max_value=7000))
def test_length_limits_are_character_budgets(section: str, length: int) -> None:
    report = check_completeness(complete(**{f"descriptions__{section}": "x" * length}), BUDGETS)
    too_long = [i for i in report.issues if i.kind is IssueKind.TOO_LONG]
    assert bool(too_long) == (length > LIMITS[section])
    if too_long:
        assert str(length) in too_long[0].detail and str(LIMITS[section]) in too_long[0].detail


@given(st.sampled_from(list(LegalForm)), st.sampled_from([True, False, None]))
def test_legal_form_rule(form: LegalForm, esus: bool | None) -> None:
    dossier = complete(structure__legal_form=form, structure__esus_approved=esus)
    eligible = form in (LegalForm.COOPERATIVE, LegalForm.ASSOCIATION) or (
        form is LegalForm.COMMERCIAL_COMPANY and esus is True)
    assert check_completeness(dossier, BUDGETS).complete == eligible


@given(st.sets(st.sampled_from(["project_name", "regions", "structure__name",
                                "structure__address", "structure__statutes",
                                "referent__email", "referent__phone", "referent__role"])))
def test_every_missing_identity_item_is_listed_once(missing: set[str]) -> None:
    empties = {k: ([] if k in ("regions", "structure__statutes") else None) for k in missing}
    report = check_completeness(complete(**empties), BUDGETS)
    assert {i.field for i in report.issues} == {k.replace("__", ".") for k in missing}
    assert len(report.issues) == len(missing)
    assert all(i.sentence() in report.summary() for i in report.issues)
