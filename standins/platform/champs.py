"""Champs as the API shows them: one dict per descriptor, with ``__typename`` and values.

``stringValue`` follows the platform's ``champ_value_for_api`` (version 2): checkboxes read
``"true"``/``"false"``, lists are joined with ``", "``, a region shows its name. A root
champ's ``id`` is its descriptor id, as on the platform (``Champ#to_typed_id``).
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from standins.platform.clock import api_datetime
from standins.platform.demarche import ChampDefinition
from standins.platform.referentiel import REGIONS

FileUrl = Callable[[ChampDefinition, str], str]


def file_content(filename: str) -> bytes:
    """The bytes served for an uploaded file: the stand-in keeps names, not contents."""
    return f"Pièce justificative de démonstration : {filename}\n".encode()


def file_url(base_url: str, number: int) -> FileUrl:
    def url(champ: ChampDefinition, filename: str) -> str:
        return f"{base_url}_standin/dossiers/{number}/files/{champ.stable_id}/{quote(filename)}"

    return url


def champ_view(champ: ChampDefinition, value: Any, updated_at: int, url: FileUrl) -> dict[str, Any]:
    view: dict[str, Any] = {
        "__typename": champ.typename,
        "id": champ.id,
        "champDescriptorId": champ.id,
        "label": champ.label,
        "stringValue": _string_value(champ, value),
        "updatedAt": api_datetime(updated_at),
        "prefilled": False,
        "prefilledValueModified": False,
        "columns": [],
    }
    match champ.typename:
        case "TextChamp" | "DropDownListChamp":
            view["value"] = value
        case "CheckboxChamp":
            view["value"] = value is True
        case "YesNoChamp":
            view["value"] = value
        case "MultipleDropDownListChamp":
            view["values"] = list(value or [])
        case "RegionChamp":
            view["region"] = {"code": value, "name": REGIONS[value]} if value else None
        case "AddressChamp":
            view.update(address=value, commune=None, departement=None)
        case "PieceJustificativeChamp":
            files = [_file(champ, name, updated_at, url) for name in value or []]
            view.update(files=files, file=files[0] if files else None, nature="NON_SPECIFIE")
    return view


def _string_value(champ: ChampDefinition, value: Any) -> str | None:
    if champ.typename == "CheckboxChamp":
        return "true" if value is True else "false"
    if value is None or value == [] or value == "":
        return None
    match champ.typename:
        case "YesNoChamp":
            return "true" if value else "false"
        case "MultipleDropDownListChamp" | "PieceJustificativeChamp":
            return ", ".join(value)
        case "RegionChamp":
            return REGIONS.get(str(value), str(value))
        case "AddressChamp":
            return str(value.get("label"))
    return str(value)


def _file(champ: ChampDefinition, filename: str, created_at: int, url: FileUrl) -> dict[str, Any]:
    content = file_content(filename)
    return {
        "__typename": "File",
        "filename": filename,
        "contentType": mimetypes.guess_type(filename)[0] or "application/octet-stream",
        "byteSize": len(content),
        "byteSizeBigInt": len(content),
        "checksum": base64.b64encode(hashlib.md5(content).digest()).decode("ascii"),
        "createdAt": api_datetime(created_at),
        "url": url(champ, filename),
        "virusScanResult": "safe",
    }
