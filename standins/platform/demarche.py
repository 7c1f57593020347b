"""The démarche the stand-in serves: its number, title, champ and annotation descriptors.

Champs come from the project's démarche file (``core/data/demarche_demo.json`` by default).
Private annotations are not in that file, so the stand-in adds the committee's two text
annotations unless the file lists its own under ``"annotations"``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import core
from standins.platform.ids import decode_id, encode_id

DEFAULT_DEMARCHE_FILE = Path(core.__file__).parent / "data" / "demarche_demo.json"

# Champ __typename -> (descriptor __typename, TypeDeChamp enum value)
CHAMP_TYPES: dict[str, tuple[str, str]] = {
    "TextChamp": ("TextChampDescriptor", "text"),
    "CheckboxChamp": ("CheckboxChampDescriptor", "checkbox"),
    "YesNoChamp": ("YesNoChampDescriptor", "yes_no"),
    "DropDownListChamp": ("DropDownListChampDescriptor", "drop_down_list"),
    "MultipleDropDownListChamp": ("MultipleDropDownListChampDescriptor", "multiple_drop_down_list"),
    "RegionChamp": ("RegionChampDescriptor", "regions"),
    "AddressChamp": ("AddressChampDescriptor", "address"),
    "PieceJustificativeChamp": ("PieceJustificativeChampDescriptor", "piece_justificative"),
}

DEFAULT_ANNOTATIONS: tuple[dict[str, Any], ...] = (
    {"id": encode_id("Annotation", 201), "label": "Avis des CRA", "type": "TextChamp"},
    {"id": encode_id("Annotation", 202), "label": "Étape de la procédure", "type": "TextChamp"},
)


@dataclass(frozen=True, slots=True)
class ChampDefinition:
    id: str
    label: str
    typename: str
    field: str | None = None
    options: tuple[str, ...] | None = None

    @property
    def descriptor_typename(self) -> str:
        return CHAMP_TYPES[self.typename][0]

    @property
    def type_de_champ(self) -> str:
        return CHAMP_TYPES[self.typename][1]

    @property
    def stable_id(self) -> str:
        decoded = decode_id(self.id)
        return decoded[1] if decoded else self.id


@dataclass(frozen=True)
class DemarcheDefinition:
    number: int
    title: str
    champs: tuple[ChampDefinition, ...]
    annotations: tuple[ChampDefinition, ...] = field(default=())

    @cached_property
    def champ_by_field(self) -> dict[str, ChampDefinition]:
        return {champ.field: champ for champ in self.champs if champ.field}

    @cached_property
    def annotation_by_id(self) -> dict[str, ChampDefinition]:
        return {annotation.id: annotation for annotation in self.annotations}


def load_demarche(path: Path | None = None) -> DemarcheDefinition:
    data = json.loads((path or DEFAULT_DEMARCHE_FILE).read_text(encoding="utf-8"))
    return DemarcheDefinition(
        number=int(data["number"]),
        title=str(data["title"]),
        champs=tuple(_definition(item) for item in data["champs"]),
        annotations=tuple(_definition(item) for item in data.get("annotations", DEFAULT_ANNOTATIONS)),
    )


def _definition(item: dict[str, Any]) -> ChampDefinition:
    typename = str(item["type"])
    if typename not in CHAMP_TYPES:
        raise ValueError(f"unsupported champ type {typename!r} for descriptor {item['id']!r}")
    options = item.get("options")
    return ChampDefinition(
        id=str(item["id"]),
        label=str(item["label"]),
        typename=typename,
        field=item.get("field"),
        options=tuple(options) if options is not None else None,
    )
