"""``dossierModifierAnnotations``: several private annotations in one call.

As on the platform, each annotation is checked on its own: an unknown id or a value of the
wrong kind adds an error, and the valid ones are saved all the same. The value's key must be
the annotation's own type: ``text`` for a "Texte court", ``textarea`` for a "Texte long"
(``annotation.value.public_send(type_de_champ.type_champ)``,
app/graphql/mutations/dossier_modifier_annotations.rb#L68-L75).
"""

from __future__ import annotations

from typing import Any

from standins.platform import rules
from standins.platform.champs import champ_view, file_url
from standins.platform.context import Platform
from standins.platform.demarche import ChampDefinition
from standins.platform.outcome import Outcome, refused
from standins.platform.records import DossierRecord
from standins.platform.referentiel import region_code
from standins.platform.writes import Writer

# TypeDeChamp -> key of AnnotationValueInput that may set it (the platform's accepted types
# that the stand-in's champ views know how to show).
_VALUE_KEYS: dict[str, str] = {
    "text": "text",
    "textarea": "textarea",
    "checkbox": "checkbox",
    "yes_no": "yesNo",
    "drop_down_list": "dropDownList",
    "multiple_drop_down_list": "multipleDropDownList",
    "regions": "regions",
}


def required_missing(platform: Platform, dossier: DossierRecord) -> list[ChampDefinition]:
    """Required annotations left empty (``Dossier#check_mandatory_and_visible_champs_private``,
    app/models/dossier.rb#L985-L999), which make ``can_terminer?`` false."""
    return [a for a in platform.demarche.annotations
            if a.required and dossier.annotations.get(a.id, {}).get("value") in (None, "", [])]


def modifier(platform: Platform, tx: Writer, dossier: DossierRecord, input: dict[str, Any]) -> Outcome:
    forbidden = rules.instructeur_error(input["instructeurId"],
                                        tx.groupe_members().get(dossier.groupe, []))
    if forbidden:
        return refused(forbidden)
    errors, accepted = check(platform, input["annotations"])
    return save(platform, tx, dossier, accepted, errors)


def check(platform: Platform, items: list[dict[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    """The platform's messages for the refused items; the accepted values by annotation id."""
    errors: list[str] = []
    accepted: dict[str, Any] = {}
    for item in items:
        annotation_id = item["id"]
        definition = platform.demarche.annotation(annotation_id)
        key = _VALUE_KEYS.get(definition.type_de_champ) if definition else None
        if definition is None or key is None:
            errors.append(rules.annotation_not_found(annotation_id))
            continue
        value = item["value"].get(key)
        if value is None:
            errors.append(rules.annotation_wrong_type(annotation_id))
            continue
        accepted[definition.id] = region_code(value) or value if key == "regions" else value
    return errors, accepted


def save(platform: Platform, tx: Writer, dossier: DossierRecord, accepted: dict[str, Any],
         errors: list[str]) -> Outcome:
    if not accepted:
        return Outcome({"annotations": []}, errors, applied=False)
    now = tx.tick()
    saved = {key: {"value": value, "updated_at": now} for key, value in accepted.items()}
    tx.set_annotations(dossier.number, {**dossier.annotations, **saved}, now)
    url = file_url(platform.base_url, dossier.number)
    by_id = {a.id: a for a in platform.demarche.annotations}
    views = [champ_view(by_id[key], value, now, url) for key, value in accepted.items()]
    return Outcome({"annotations": views}, errors, applied=True)
