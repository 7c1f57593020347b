"""What a CRA member reads of the dossier: a view model, without the referent's contact details."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.dossier import Dossier, LegalForm, TerritoryFlags
from core.domain.regions import region_name

LEGAL_FORMS: dict[LegalForm, str] = {
    LegalForm.COOPERATIVE: "Coopérative",
    LegalForm.ASSOCIATION: "Association",
    LegalForm.COMMERCIAL_COMPANY: "Société commerciale",
    LegalForm.OTHER: "Autre forme juridique",
}

DESCRIPTIONS: list[tuple[str, str]] = [
    ("structure", "Structure porteuse"),
    ("objectives", "Objectifs et vision stratégique"),
    ("actors", "Acteurs impliqués"),
    ("governance", "Mode de gouvernance"),
    ("territory", "Périmètre géographique et ancrage territorial"),
    ("actions", "Actions entamées ou envisagées"),
    ("financing", "Perspectives de financement prévisionnel"),
    ("action_plan", "Plan d’action prévisionnel sur 3 ans"),
    ("members_involvement", "Implication des catégories de membres"),
    ("networking", "Mise en réseau et articulation avec les politiques publiques"),
]

FLAGS: list[tuple[str, str]] = [
    ("qpv", "Quartier prioritaire de la politique de la ville (QPV)"),
    ("zrr", "Zone de revitalisation rurale (ZRR)"),
    ("deindustrialised", "Bassin d’emploi désindustrialisé"),
]


@dataclass(frozen=True)
class DossierSummary:
    number: int
    project: str
    structure: str
    legal_form: str
    esus: str
    address: str
    regions: list[str]
    flags: list[str]
    descriptions: list[tuple[str, str]]
    attachments: list[str]


def _yes_no(value: bool | None) -> str:
    return "Non renseigné" if value is None else ("Oui" if value else "Non")


def summarize(dossier: Dossier, territory: TerritoryFlags | None = None) -> DossierSummary:
    """``territory``: BESSII's reading of the fragile-territory flags when it gave one."""
    flags = territory or dossier.territory
    texts = dossier.descriptions.model_dump()
    structure = dossier.structure
    return DossierSummary(
        number=dossier.number,
        project=dossier.project_name or "Projet sans nom",
        structure=structure.name or "Non renseignée",
        legal_form=LEGAL_FORMS[structure.legal_form] if structure.legal_form else "Non renseignée",
        esus=_yes_no(structure.esus_approved),
        address=structure.address or "Non renseignée",
        regions=[region_name(r) for r in dossier.regions],
        flags=[label for attr, label in FLAGS if getattr(flags, attr)],
        descriptions=[(label, texts[attr].strip()) for attr, label in DESCRIPTIONS
                      if texts.get(attr) and texts[attr].strip()],
        attachments=list(structure.statutes),
    )
