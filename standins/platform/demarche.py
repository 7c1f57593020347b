"""The démarche the stand-in serves: its number, title, champ and annotation descriptors.

Champs come from the project's démarche file (``core/data/demarche_demo.json`` by default).
Private annotations are not in that file, so the stand-in adds the committee's two text
annotations unless the file lists its own under ``"annotations"`` (each may be a ``"Textarea"``,
"Texte long", and ``"required"``). Groupes instructeurs route dossiers by their main region,
the way a démarche's routing rules do (``RoutingEngine.compute``); the file may list its own
under ``"groupes"``.

Ids are the platform's: a champ or annotation id is ``Champ-<stable_id>``
(``TypeDeChamp#to_typed_id``, app/models/type_de_champ.rb#L582-L584), and the platform reads
only the stable id from an id it is given, whatever its type prefix (``Champ.decode_typed_id``,
app/models/champ.rb#L176-L179).
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

# Type in the démarche file -> (descriptor __typename, TypeDeChamp enum value); the champ's own
# __typename is the file's type, except "Textarea", whose champs are ``TextChamp`` too.
CHAMP_TYPES: dict[str, tuple[str, str]] = {
    "TextChamp": ("TextChampDescriptor", "text"),
    "Textarea": ("TextareaChampDescriptor", "textarea"),
    "CheckboxChamp": ("CheckboxChampDescriptor", "checkbox"),
    "YesNoChamp": ("YesNoChampDescriptor", "yes_no"),
    "DropDownListChamp": ("DropDownListChampDescriptor", "drop_down_list"),
    "MultipleDropDownListChamp": ("MultipleDropDownListChampDescriptor", "multiple_drop_down_list"),
    "RegionChamp": ("RegionChampDescriptor", "regions"),
    "AddressChamp": ("AddressChampDescriptor", "address"),
    "PieceJustificativeChamp": ("PieceJustificativeChampDescriptor", "piece_justificative"),
}

DEFAULT_ANNOTATIONS: tuple[dict[str, Any], ...] = (
    {"id": encode_id("Champ", 201), "label": "Avis des CRA", "type": "TextChamp"},
    {"id": encode_id("Champ", 202), "label": "Étape de la procédure", "type": "TextChamp"},
)
# Routing by the main region (INSEE code); the first groupe takes every other region.
DEFAULT_GROUPES: tuple[dict[str, Any], ...] = (
    {"number": 1, "label": "défaut", "regions": []},
    {"number": 2, "label": "Bretagne et Pays de la Loire", "regions": ["53", "52"]},
    {"number": 3, "label": "Outre-mer", "regions": ["01", "02", "03", "04", "06"]},
)


def stable_id(typed_id: str) -> str:
    """The stable id in any typed id (its prefix ignored, as the platform does)."""
    decoded = decode_id(typed_id)
    return decoded[1] if decoded else typed_id


@dataclass(frozen=True, slots=True)
class ChampDefinition:
    id: str
    label: str
    typename: str
    field: str | None = None
    options: tuple[str, ...] | None = None
    kind: str = ""  # the file's type; "" means ``typename``
    required: bool = False

    @property
    def descriptor_typename(self) -> str:
        return CHAMP_TYPES[self.kind or self.typename][0]

    @property
    def type_de_champ(self) -> str:
        return CHAMP_TYPES[self.kind or self.typename][1]

    @property
    def stable_id(self) -> str:
        return stable_id(self.id)


@dataclass(frozen=True, slots=True)
class GroupeDefinition:
    number: int
    label: str
    regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemarcheDefinition:
    number: int
    title: str
    champs: tuple[ChampDefinition, ...]
    annotations: tuple[ChampDefinition, ...] = field(default=())
    groupes: tuple[GroupeDefinition, ...] = field(default=())

    @cached_property
    def champ_by_field(self) -> dict[str, ChampDefinition]:
        return {champ.field: champ for champ in self.champs if champ.field}

    @cached_property
    def annotation_by_stable_id(self) -> dict[str, ChampDefinition]:
        return {annotation.stable_id: annotation for annotation in self.annotations}

    def annotation(self, typed_id: str) -> ChampDefinition | None:
        """``dossier.find_type_de_champ_by_stable_id(stable_id, :private)``
        (app/graphql/mutations/dossier_modifier_annotations.rb#L68-L71)."""
        return self.annotation_by_stable_id.get(stable_id(typed_id))

    def route(self, region: str | None) -> int:
        """The groupe of a dossier whose main region is ``region``."""
        for groupe in self.groupes:
            if region and region in groupe.regions:
                return groupe.number
        return self.groupes[0].number if self.groupes else 1


def load_demarche(path: Path | None = None) -> DemarcheDefinition:
    data = json.loads((path or DEFAULT_DEMARCHE_FILE).read_text(encoding="utf-8"))
    return DemarcheDefinition(
        number=int(data["number"]),
        title=str(data["title"]),
        champs=tuple(_definition(item) for item in data["champs"]),
        annotations=tuple(_definition(item) for item in data.get("annotations", DEFAULT_ANNOTATIONS)),
        groupes=tuple(GroupeDefinition(int(g["number"]), str(g["label"]),
                                       tuple(g.get("regions") or ()))
                      for g in data.get("groupes", DEFAULT_GROUPES)),
    )


def _definition(item: dict[str, Any]) -> ChampDefinition:
    typename = str(item["type"])
    if typename not in CHAMP_TYPES:
        raise ValueError(f"unsupported champ type {typename!r} for descriptor {item['id']!r}")
    options = item.get("options")
    return ChampDefinition(
        id=str(item["id"]),
        label=str(item["label"]),
        typename="TextChamp" if typename == "Textarea" else typename,
        field=item.get("field"),
        options=tuple(options) if options is not None else None,
        kind=typename,
        required=bool(item.get("required", False)),
    )
