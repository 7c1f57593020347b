"""The messagerie: ``dossierEnvoyerMessage`` (optionally a correction request) and
``dossierAnnulerDemandeCorrection``.

A correction request flags the dossier "en attente de correction" and, when it is
``en_instruction``, sends it back ``en_construction`` (``DossierCorrectableConcern``). The
applicant's next edit resolves it; cancelling it resolves it too, without an edit.
"""

from __future__ import annotations

from typing import Any

from standins.platform import notifications, rules
from standins.platform.context import Platform
from standins.platform.dossier_view import message_view
from standins.platform.ids import decode_number
from standins.platform.outcome import Outcome, applied, refused
from standins.platform.records import EN_CONSTRUCTION, EN_INSTRUCTION, DossierRecord
from standins.platform.writes import Writer

CANNOT_CANCEL = "La demande de correction ne peut pas être annulée"


def envoyer_message(platform: Platform, tx: Writer, dossier: DossierRecord, input: dict[str, Any]) -> Outcome:
    correction: str | None = input.get("correction")
    pending = tx.pending_correction(dossier.number) is not None
    error = (
        (rules.correction_error(dossier, pending) if correction else None)
        or rules.instructeur_error(input["instructeurId"], tx.groupe_members().get(dossier.groupe, []))
        or (rules.EMPTY_MESSAGE if not input["body"].strip() else None)
    )
    if error:
        return refused(error)
    now = tx.tick()
    created = tx.add_message(dossier.number, platform.instructeur_email, input["body"], now, correction)
    tx.touch(dossier.number, now)  # ``Commentaire belongs_to :dossier, touch: true``
    notifications.instructeur_message(platform, tx, dossier, bool(correction), now)
    if correction and dossier.state == EN_INSTRUCTION:
        tx.set_state(dossier.number, EN_CONSTRUCTION, now)
        tx.add_traitement(
            dossier.number,
            EN_CONSTRUCTION,
            "repasse_en_construction",
            now,
            instructeur_email=platform.instructeur_email,
        )
    return applied(message=message_view(created))


def dossier_of_message(tx: Writer, input: dict[str, Any]) -> DossierRecord | None:
    message_id = decode_number(input["messageId"], "Commentaire")
    message = None if message_id is None else tx.message(message_id)
    return None if message is None else tx.dossier(message.dossier_number)


def annuler_demande_correction(
    platform: Platform, tx: Writer, dossier: DossierRecord, input: dict[str, Any]
) -> Outcome:
    message_id = decode_number(input["messageId"], "Commentaire")
    message = None if message_id is None else tx.message(message_id)
    error = (
        CANNOT_CANCEL if message is None or not message.pending_correction else None
    ) or rules.instructeur_error(input["instructeurId"], tx.groupe_members().get(dossier.groupe, []))
    if error or message is None:
        return refused(error or CANNOT_CANCEL)
    now = tx.tick()
    tx.resolve_corrections(dossier.number, now)
    tx.touch(dossier.number, now)
    updated = tx.message(message.id)
    return applied(message=message_view(updated) if updated else None)
