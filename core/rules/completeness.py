"""Admissibility: "tout dossier incomplet ne sera pas recevable" (Annexe 1 of the call).

Pure functions, deterministic: the workflow runs them directly.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from core.addresses import single_address
from core.domain.dossier import Dossier, LegalForm
from core.domain.policy import LengthBudgets


class IssueKind(StrEnum):
    MISSING = "missing"
    TOO_LONG = "too_long"
    INELIGIBLE_LEGAL_FORM = "ineligible_legal_form"
    INVALID = "invalid"


class CompletenessIssue(BaseModel):
    field: str
    label: str
    kind: IssueKind
    detail: str  # French, shown to the applicant

    def sentence(self) -> str:
        return f"{self.label} : {self.detail}"


class CompletenessReport(BaseModel):
    issues: list[CompletenessIssue]

    @property
    def complete(self) -> bool:
        return not self.issues

    def summary(self) -> str:
        return "\n".join(f"- {i.sentence()}" for i in self.issues)


# (attribute, label, limit as pages or lines, required)
_DESCRIPTIONS: list[tuple[str, str, tuple[str, float], bool]] = [
    ("structure", "Description de la structure porteuse", ("pages", 1), True),
    ("objectives", "Description des objectifs et de la vision stratégique", ("pages", 1), True),
    ("actors", "Description des acteurs impliqués", ("pages", 2), True),
    ("governance", "Mode de gouvernance", ("lines", 15), True),
    ("territory", "Périmètre géographique et ancrage territorial", ("pages", 0.5), True),
    ("actions", "Actions entamées ou envisagées", ("pages", 1), True),
    ("financing", "Perspectives de financement prévisionnel", ("pages", 1), True),
    ("action_plan", "Plan d’action prévisionnel sur 3 ans", ("pages", 1), False),
    ("members_involvement", "Implication des catégories de membres", ("pages", 1), False),
    ("networking", "Mise en réseau et articulation avec les politiques publiques", ("pages", 1), False),
]


def _limit(budgets: LengthBudgets, unit: str, amount: float) -> int:
    return budgets.pages(amount) if unit == "pages" else budgets.lines(int(amount))


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _identity_issues(d: Dossier) -> list[CompletenessIssue]:
    required: list[tuple[str, str, str | None]] = [
        ("project_name", "Nom du projet", d.project_name),
        ("structure.name", "Nom de la structure porteuse", d.structure.name),
        ("structure.address", "Adresse de la structure porteuse", d.structure.address),
        ("referent.last_name", "Nom de la personne référente", d.referent.last_name),
        ("referent.first_name", "Prénom de la personne référente", d.referent.first_name),
        ("referent.role", "Fonction de la personne référente", d.referent.role),
        ("referent.email", "Mail de la personne référente", d.referent.email),
        ("referent.phone", "Téléphone portable de la personne référente", d.referent.phone),
    ]
    issues = [
        CompletenessIssue(field=f, label=label, kind=IssueKind.MISSING, detail="non renseigné")
        for f, label, value in required
        if _blank(value)
    ]
    if not d.regions:
        issues.insert(
            1,
            CompletenessIssue(
                field="regions", label="Région", kind=IssueKind.MISSING, detail="non renseignée"
            ),
        )
    if not d.structure.statutes:
        issues.append(
            CompletenessIssue(
                field="structure.statutes",
                label="Statuts de la structure porteuse",
                kind=IssueKind.MISSING,
                detail="pièce non jointe",
            )
        )
    return issues


def _referent_email_issues(d: Dossier) -> list[CompletenessIssue]:
    """One address, nothing else: the service writes to it (``core.addresses``)."""
    email = d.referent.email
    if _blank(email) or single_address(email) is not None:
        return []
    return [CompletenessIssue(
        field="referent.email", label="Mail de la personne référente", kind=IssueKind.INVALID,
        detail="doit contenir une seule adresse électronique valide, sans espace, virgule ni "
               "retour à la ligne (par exemple prenom.nom@structure.fr)")]


def _legal_form_issues(d: Dossier) -> list[CompletenessIssue]:
    form = d.structure.legal_form
    label = "Forme juridique de la structure porteuse"
    if form is None:
        return [CompletenessIssue(field="structure.legal_form", label=label,
                                  kind=IssueKind.MISSING, detail="non renseignée")]
    if form is LegalForm.OTHER:
        detail = "doit être une coopérative, une association ou une société commerciale agréée ESUS"
    elif form is LegalForm.COMMERCIAL_COMPANY and not d.structure.esus_approved:
        detail = "une société commerciale doit bénéficier de l’agrément ESUS"
    else:
        return []
    return [CompletenessIssue(field="structure.legal_form", label=label,
                              kind=IssueKind.INELIGIBLE_LEGAL_FORM, detail=detail)]


def _description_issues(d: Dossier, budgets: LengthBudgets) -> list[CompletenessIssue]:
    issues: list[CompletenessIssue] = []
    for attr, label, (unit, amount), required in _DESCRIPTIONS:
        text: str | None = getattr(d.descriptions, attr)
        field = f"descriptions.{attr}"
        if _blank(text):
            if required:
                issues.append(CompletenessIssue(field=field, label=label,
                                                kind=IssueKind.MISSING, detail="non renseignée"))
            continue
        assert text is not None
        limit = _limit(budgets, unit, amount)
        length = len(text.strip())
        if length > limit:
            unit_fr = "page(s)" if unit == "pages" else "lignes"
            detail = (f"{length} caractères pour {limit} autorisés "
                      f"({amount:g} {unit_fr} maximum)")
            issues.append(CompletenessIssue(field=field, label=label,
                                            kind=IssueKind.TOO_LONG, detail=detail))
    return issues


def check_completeness(dossier: Dossier, budgets: LengthBudgets,
                       referent_email: bool = True) -> CompletenessReport:
    """``referent_email``: the rule on the referent's address (off only for executions that
    checked their dossier before the rule existed, see ``workflows.patches``)."""
    return CompletenessReport(
        issues=[
            *_identity_issues(dossier),
            *(_referent_email_issues(dossier) if referent_email else []),
            *_legal_form_issues(dossier),
            *_description_issues(dossier, budgets),
        ]
    )
