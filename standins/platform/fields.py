"""Turn the applicant's answers (keyed by our field names) into stored champ values.

Stored values are JSON, keyed by champ descriptor id: str for text and drop-down champs,
bool for checkbox and yes/no, list[str] for multiple drop-downs and file names, the region
code for region champs, and an ``Address``-shaped dict for address champs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from standins.platform.demarche import ChampDefinition, DemarcheDefinition
from standins.platform.referentiel import parse_address, region_code


class FieldError(ValueError):
    """An answer the platform's form would not accept; the message is shown to the caller."""


def champ_values(demarche: DemarcheDefinition, fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(demarche.champ_by_field))
    if unknown:
        raise FieldError(f"Champ(s) inconnu(s) dans la démarche : {', '.join(unknown)}")
    return {
        demarche.champ_by_field[name].id: _normalize(demarche.champ_by_field[name], value)
        for name, value in fields.items()
    }


def _normalize(champ: ChampDefinition, value: Any) -> Any:
    if value is None:
        return None
    match champ.typename:
        case "TextChamp" | "DropDownListChamp":
            return _text(champ, value)
        case "CheckboxChamp" | "YesNoChamp":
            if not isinstance(value, bool):
                raise FieldError(f"« {champ.label} » attend un booléen (true ou false)")
            return value
        case "MultipleDropDownListChamp":
            return _texts(champ, value)
        case "PieceJustificativeChamp":
            return _texts(champ, [value] if isinstance(value, str) else value)
        case "RegionChamp":
            code = region_code(_text(champ, value))
            if code is None:
                raise FieldError(f"« {champ.label} » : région inconnue « {value} »")
            return code
        case "AddressChamp":
            return _address(champ, value)
    raise FieldError(f"« {champ.label} » : type de champ non pris en charge ({champ.typename})")


def _text(champ: ChampDefinition, value: Any) -> str:
    if not isinstance(value, str):
        raise FieldError(f"« {champ.label} » attend un texte")
    if champ.options is not None and value not in champ.options:
        raise FieldError(f"« {champ.label} » : valeur « {value} » hors de la liste")
    return value


def _texts(champ: ChampDefinition, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise FieldError(f"« {champ.label} » attend une liste de textes")
    return list(value)


def _address(champ: ChampDefinition, value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return parse_address(value)
    if isinstance(value, Mapping) and isinstance(value.get("label"), str):
        return {**parse_address(value["label"]), **value}
    raise FieldError(f"« {champ.label} » attend une adresse (texte ou objet avec « label »)")
