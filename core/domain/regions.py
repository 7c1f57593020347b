"""French regions by INSEE code, as the platform's RegionChamp gives them."""

from __future__ import annotations

REGIONS: dict[str, str] = {
    "01": "Guadeloupe",
    "02": "Martinique",
    "03": "Guyane",
    "04": "La Réunion",
    "06": "Mayotte",
    "11": "Île-de-France",
    "24": "Centre-Val de Loire",
    "27": "Bourgogne-Franche-Comté",
    "28": "Normandie",
    "32": "Hauts-de-France",
    "44": "Grand Est",
    "52": "Pays de la Loire",
    "53": "Bretagne",
    "75": "Nouvelle-Aquitaine",
    "76": "Occitanie",
    "84": "Auvergne-Rhône-Alpes",
    "93": "Provence-Alpes-Côte d’Azur",
    "94": "Corse",
}
_BY_NAME = {name.casefold(): code for code, name in REGIONS.items()}


def region_name(code: str) -> str:
    return REGIONS.get(code, code)


def region_code(value: str) -> str | None:
    """Accepts a code or a name (as a multiple drop-down gives it); None when unknown."""
    value = value.strip()
    if value in REGIONS:
        return value
    return _BY_NAME.get(value.casefold().replace("'", "’"))
