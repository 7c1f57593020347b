"""Sample dossiers for the demo: filed on the platform stand-in like an applicant would."""

from __future__ import annotations

from typing import Any

import httpx

_BASE: dict[str, Any] = {
    "structure_address": "12 rue de la Coopération 35000 Rennes",
    "legal_form": "Association",
    "esus_approved": False,
    "statutes": ["statuts-signes.pdf"],
    "referent_role": "Coordinatrice du pôle",
    "referent_phone": "06 12 34 56 78",
    "structure": ("Association loi 1901 créée en 2016, elle fédère quarante structures de "
                  "l’économie sociale et solidaire du territoire et anime un tiers-lieu."),
    "objectives": ("Créer trente emplois durables en trois ans autour du réemploi et de "
                   "l’alimentation locale, en associant entreprises, collectivités et habitants."),
    "actors": ("Une recyclerie, deux coopératives agricoles, un chantier d’insertion, la "
               "communauté de communes, un lycée professionnel et une PME industrielle."),
    "governance": ("Collégiale : un collège par catégorie de membres, une voix par membre, "
                   "un comité de pilotage trimestriel ouvert aux habitants."),
    "territory": "Trois intercommunalités rurales, dont deux communes classées ZRR.",
    "actions": "Étude de préfiguration achevée, atelier de réparation ouvert en 2025.",
    "financing": "Budget annuel de 180 000 € : 40 % recettes propres, 60 % subventions.",
    "territory_zrr": True,
}

SAMPLES: list[tuple[str, dict[str, Any]]] = [
    ("complet, Bretagne, territoire fragile (ZRR)", {
        **_BASE, "project_name": "Pôle de l’économie circulaire du pays de Brocéliande",
        "region": "53", "structure_name": "Association Brocéliande Coopère",
        "referent_last_name": "Le Goff", "referent_first_name": "Maëlle",
        "referent_email": "maelle.legoff@broceliande-coopere.example",
    }),
    ("complet, Occitanie et Nouvelle-Aquitaine (deux CRA)", {
        **_BASE, "project_name": "Coopérative des vallées pyrénéennes",
        "region": "76", "other_regions": ["Nouvelle-Aquitaine"],
        "structure_name": "SCIC Vallées Solidaires", "legal_form": "Coopérative",
        "referent_last_name": "Etcheverry", "referent_first_name": "Iñaki",
        "referent_email": "inaki@vallees-solidaires.example", "territory_zrr": False,
    }),
    ("incomplet : statuts manquants, gouvernance trop longue", {
        **_BASE, "project_name": "Quartiers Nord en coopération", "region": "93",
        "structure_name": "Quartiers Nord Initiatives", "statutes": [],
        "referent_last_name": "Benali", "referent_first_name": "Samir",
        "referent_email": "samir.benali@qni.example",
        "governance": "Gouvernance partagée entre les membres fondateurs. " * 40,
        "territory_qpv": True, "territory_zrr": False,
    }),
]


def sample(i: int) -> tuple[str, dict[str, Any]]:
    label, fields = SAMPLES[i % len(SAMPLES)]
    return label, fields


def file_demo_dossiers(platform_url: str, count: int) -> list[tuple[int, str]]:
    filed: list[tuple[int, str]] = []
    with httpx.Client(base_url=platform_url, timeout=10) as http:
        for i in range(count):
            label, fields = sample(i)
            response = http.post("/_standin/dossiers", json={
                "usager_email": fields["referent_email"], "fields": fields})
            response.raise_for_status()
            filed.append((int(response.json()["number"]), label))
    return filed
