"""From the platform's ``getDossier`` answer to our ``Dossier``.

Which champ feeds which field is data: a démarche file keyed by the platform's champ descriptor
ids (``core/data/demarche_demo.json`` for the demo démarche). Labels are never used to map.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.domain.dossier import Dossier, LegalForm, PlatformState
from core.domain.regions import region_code

DEMO_DEMARCHE_FILE = Path(__file__).parent / "data" / "demarche_demo.json"


class MappingError(ValueError):
    """A champ's value does not have the type its descriptor promises (English, for admins)."""


class ChampSpec(BaseModel):
    id: str
    label: str
    type: str
    field: str


class DemarcheMapping(BaseModel):
    number: int
    title: str
    champs: list[ChampSpec]
    legal_forms: dict[str, LegalForm]

    def by_descriptor(self) -> dict[str, ChampSpec]:
        return {c.id: c for c in self.champs}


@lru_cache(maxsize=8)
def load_mapping(path: Path | None = None) -> DemarcheMapping:
    return DemarcheMapping.model_validate(json.loads((path or DEMO_DEMARCHE_FILE).read_text()))


def _value(champ: dict[str, Any]) -> Any:
    """The typed value of a champ as selected by ``get_dossier.graphql``."""
    match champ.get("__typename"):
        case "CheckboxChamp":
            return champ.get("checked")
        case "YesNoChamp":
            return champ.get("selected")
        case "MultipleDropDownListChamp":
            return champ.get("values") or []
        case "RegionChamp":
            region = champ.get("region")
            return region.get("code") if region else None
        case "AddressChamp":
            address = champ.get("address")
            return address.get("label") if address else champ.get("stringValue")
        case "PieceJustificativeChamp":
            return [f["filename"] for f in champ.get("files") or []]
        case _:
            value = champ.get("value", champ.get("stringValue"))
            return value if value not in ("", None) else None


def _set(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for p in parents:
        target = target.setdefault(p, {})
    target[leaf] = value


_FIELD_PATHS: dict[str, str] = {
    "structure_name": "structure.name",
    "structure_address": "structure.address",
    "legal_form": "structure.legal_form",
    "esus_approved": "structure.esus_approved",
    "statutes": "structure.statutes",
    "referent_last_name": "referent.last_name",
    "referent_first_name": "referent.first_name",
    "referent_role": "referent.role",
    "referent_email": "referent.email",
    "referent_phone": "referent.phone",
    "territory_qpv": "territory.qpv",
    "territory_zrr": "territory.zrr",
    "territory_deindustrialised": "territory.deindustrialised",
}
_DESCRIPTION_FIELDS = {
    "structure", "objectives", "actors", "governance", "territory", "actions", "financing",
    "action_plan", "members_involvement", "networking",
}


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"expected text, got {type(value).__name__}")


def _texts(value: Any) -> list[str]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise TypeError(f"expected a list of texts, got {type(value).__name__}")


def _apply(spec: ChampSpec, value: Any, data: dict[str, Any], mapping: DemarcheMapping,
           regions: dict[str, list[str]]) -> None:
    """Puts one champ's value where its descriptor says, checking its type on the way."""
    if spec.field == "region":
        code = _text(value)
        regions["main"] = [c] if code and (c := region_code(code)) else []
    elif spec.field == "other_regions":
        regions["other"] = [c for v in _texts(value) if (c := region_code(v))]
    elif spec.field == "legal_form":
        form = _text(value)
        if form is not None:
            _set(data, "structure.legal_form", mapping.legal_forms.get(form, LegalForm.OTHER))
    elif spec.field in _DESCRIPTION_FIELDS:
        _set(data, f"descriptions.{spec.field}", _text(value))
    elif spec.field in _FIELD_PATHS:
        if value is not None:
            _set(data, _FIELD_PATHS[spec.field], value)
    else:
        data[spec.field] = value


def map_dossier(raw: dict[str, Any], mapping: DemarcheMapping) -> Dossier:
    """Raises MappingError when a champ has the wrong type, pydantic's ValidationError when a
    mapped value does not fit the model: never a half-mapped dossier."""
    specs = mapping.by_descriptor()
    data: dict[str, Any] = {}
    regions: dict[str, list[str]] = {"main": [], "other": []}
    for champ in raw.get("champs") or []:
        spec = specs.get(champ.get("champDescriptorId", ""))
        if spec is None:
            continue
        try:
            _apply(spec, _value(champ), data, mapping, regions)
        except (TypeError, AttributeError, KeyError) as exc:
            raise MappingError(f"champ {spec.id} ({spec.type}, field {spec.field}) has an "
                               f"unexpected value: {exc}") from exc
    return Dossier(
        number=int(raw["number"]),
        demarche=int(raw["demarche"]["number"]),
        platform_id=raw["id"],
        platform_state=PlatformState(raw["state"]),
        updated_at=datetime.fromisoformat(raw["dateDerniereModification"]),
        deposited_at=datetime.fromisoformat(raw["dateDepot"]) if raw.get("dateDepot") else None,
        applicant_email=(raw.get("usager") or {}).get("email"),
        pending_correction=raw.get("dateDerniereCorrectionEnAttente") is not None,
        regions=list(dict.fromkeys(regions["main"] + regions["other"])),
        **data,
    )
