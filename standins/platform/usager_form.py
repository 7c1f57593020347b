"""The applicant's form: one HTML input per champ of the démarche, and back from the posted form.

Plain HTML, no JavaScript. Inputs are named by our field names (``project_name``…), the same
names ``/_standin/dossiers`` takes in JSON, so both paths go through ``usager.deposer`` and
``usager.modifier`` with the same checks. Files: the stand-in keeps names, not contents.
"""

from __future__ import annotations

from html import escape
from typing import Any

from starlette.datastructures import FormData, UploadFile

from standins.platform.demarche import ChampDefinition, DemarcheDefinition
from standins.platform.referentiel import REGIONS

KEEP_SUFFIX = "__conserver"  # checkbox per file already attached: unticked, the file is removed


def render_fields(demarche: DemarcheDefinition, values: dict[str, Any]) -> str:
    """``values`` as stored (keyed by champ descriptor id)."""
    return "\n".join(
        f'<div class="champ">{_input(champ, values.get(champ.id))}</div>'
        for champ in demarche.champs
        if champ.field
    )


def _label(champ: ChampDefinition, target: str | None = None) -> str:
    target = target or champ.field or ""
    return f'<label for="{escape(target)}">{escape(champ.label)}</label>'


def _input(champ: ChampDefinition, value: Any) -> str:
    name = escape(champ.field or "")
    match champ.typename:
        case "TextChamp" | "AddressChamp" | "DropDownListChamp" if not champ.options:
            text = value.get("label", "") if isinstance(value, dict) else (value or "")
            return (f'{_label(champ)}<textarea id="{name}" name="{name}" rows="2">'
                    f"{escape(str(text))}</textarea>")
        case "DropDownListChamp":
            return _label(champ) + _select(name, [(o, o) for o in champ.options or ()], value)
        case "RegionChamp":
            return _label(champ) + _select(name, list(REGIONS.items()), value)
        case "MultipleDropDownListChamp":
            lines = "\n".join(value or [])
            return (f'{_label(champ)} <small>(une valeur par ligne)</small>'
                    f'<textarea id="{name}" name="{name}" rows="2">{escape(lines)}</textarea>')
        case "YesNoChamp":
            radios = "".join(
                f'<label><input type="radio" name="{name}" value="{answer}"'
                f'{" checked" if value is flag else ""}> {answer.capitalize()}</label> '
                for answer, flag in (("oui", True), ("non", False))
            )
            return f"<fieldset><legend>{escape(champ.label)}</legend>{radios}</fieldset>"
        case "CheckboxChamp":
            checked = " checked" if value else ""
            return (f'<label><input type="checkbox" id="{name}" name="{name}" value="oui"{checked}>'
                    f" {escape(champ.label)}</label>")
        case "PieceJustificativeChamp":
            kept = "".join(
                f'<li><label><input type="checkbox" name="{name}{KEEP_SUFFIX}" value="{escape(f)}"'
                f" checked> {escape(f)}</label></li>"
                for f in value or []
            )
            listing = f"<ul>{kept}</ul>" if kept else "<p>Aucun fichier joint.</p>"
            return (f"<fieldset><legend>{escape(champ.label)}</legend>{listing}"
                    f'<label for="{name}">Joindre un fichier</label>'
                    f'<input type="file" id="{name}" name="{name}" multiple></fieldset>')
    return f"<p>{escape(champ.label)} : type de champ non pris en charge ici.</p>"


def _select(name: str, options: list[tuple[str, str]], value: Any) -> str:
    choices = "".join(
        f'<option value="{escape(code)}"{" selected" if code == value else ""}>{escape(label)}</option>'
        for code, label in options
    )
    return f'<select id="{name}" name="{name}"><option value="">— choisir —</option>{choices}</select>'


def parse_fields(demarche: DemarcheDefinition, form: FormData) -> dict[str, Any]:
    """The posted form as answers keyed by field name; an empty input clears the champ and an
    unticked checkbox is ``False`` (HTML cannot post "unanswered")."""
    fields: dict[str, Any] = {}
    for champ in demarche.champs:
        if not champ.field:
            continue
        name = champ.field
        texts = [v.strip() for v in form.getlist(name) if isinstance(v, str)]
        first = texts[0] if texts else ""
        match champ.typename:
            case "MultipleDropDownListChamp":
                fields[name] = [line.strip() for line in first.splitlines() if line.strip()]
            case "YesNoChamp":
                fields[name] = {"oui": True, "non": False}.get(first)
            case "CheckboxChamp":
                fields[name] = first == "oui"
            case "PieceJustificativeChamp":
                kept = [v for v in form.getlist(name + KEEP_SUFFIX) if isinstance(v, str)]
                uploaded = [v.filename for v in form.getlist(name)
                            if isinstance(v, UploadFile) and v.filename]
                fields[name] = kept + [f for f in uploaded if f not in kept]
            case _:
                fields[name] = first or None
    return fields
