"""French regions and departments (INSEE codes), enough to fill region and address champs."""

from __future__ import annotations

import re
from typing import Any

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
    "93": "Provence-Alpes-Côte d'Azur",
    "94": "Corse",
}

_DEPARTMENTS_BY_REGION: dict[str, str] = {
    "01": "971",
    "02": "972",
    "03": "973",
    "04": "974",
    "06": "976",
    "11": "75 77 78 91 92 93 94 95",
    "24": "18 28 36 37 41 45",
    "27": "21 25 39 58 70 71 89 90",
    "28": "14 27 50 61 76",
    "32": "02 59 60 62 80",
    "44": "08 10 51 52 54 55 57 67 68 88",
    "52": "44 49 53 72 85",
    "53": "22 29 35 56",
    "75": "16 17 19 23 24 33 40 47 64 79 86 87",
    "76": "09 11 12 30 31 32 34 46 48 65 66 81 82",
    "84": "01 03 07 15 26 38 42 43 63 69 73 74",
    "93": "04 05 06 13 83 84",
    "94": "2A 2B",
}

REGION_OF_DEPARTMENT: dict[str, str] = {
    department: region
    for region, departments in _DEPARTMENTS_BY_REGION.items()
    for department in departments.split()
}

_POSTAL_CODE = re.compile(r"\b(\d{5})\b")


def region_code(value: str) -> str | None:
    """The INSEE code of a region given by code or by name (case-insensitive)."""
    text = value.strip()
    if text in REGIONS:
        return text
    folded = text.casefold().replace("’", "'")
    for code, name in REGIONS.items():
        if name.casefold() == folded:
            return code
    return None


def department_of_postal_code(postal_code: str) -> str | None:
    if len(postal_code) != 5 or not postal_code.isdigit():
        return None
    if postal_code.startswith("97"):
        return postal_code[:3]
    if postal_code.startswith("20"):
        return "2A" if int(postal_code) < 20200 else "2B"
    return postal_code[:2]


def parse_address(label: str) -> dict[str, Any]:
    """Split ``"12 rue de la Paix 75002 Paris"`` into the fields of the ``Address`` type.

    The platform gets these from the national address base (BAN); the stand-in only reads
    the postal code and the city from the label, and uses the postal code as city code.
    """
    match = _POSTAL_CODE.search(label)
    postal_code = match.group(1) if match else ""
    street = label[: match.start()].strip(" ,") if match else label.strip()
    city = label[match.end() :].strip(" ,") if match else ""
    department = department_of_postal_code(postal_code)
    region = REGION_OF_DEPARTMENT.get(department or "")
    return {
        "label": label.strip(),
        "type": "housenumber" if street[:1].isdigit() else "street",
        "streetAddress": street or None,
        "postalCode": postal_code,
        "cityName": city,
        "cityCode": postal_code,
        "departmentCode": department,
        "regionCode": region,
        "regionName": REGIONS.get(region or ""),
        "countryCode": "FR",
        "countryName": "France",
    }
