"""Instructeur mutations: the platform's checks, then the change, in one transaction.

A refused mutation answers with errors as data (``{dossier: null, errors: [{message}]}``,
HTTP 200) and changes nothing. An applied one moves ``dateDerniereModification`` and is
written to the ``mutations`` log, so tests can count what was applied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from standins.platform import messaging, notifications, private_annotations, rules
from standins.platform.context import Platform
from standins.platform.dossier_view import dossier_view
from standins.platform.ids import decode_id, decode_number
from standins.platform.outcome import Outcome, applied, refused
from standins.platform.queries import not_found, visible_dossier
from standins.platform.records import ACCEPTE, EN_INSTRUCTION, REFUSE, SANS_SUITE, DossierRecord
from standins.platform.writes import Writer

Payload = dict[str, Any]
Change = Callable[[Platform, Writer, DossierRecord, dict[str, Any]], Outcome]
Locate = Callable[[Writer, dict[str, Any]], DossierRecord | None]

# state reached -> traitement event, for the three decisions
_DECISION_EVENTS = {ACCEPTE: "accepte", REFUSE: "refuse", SANS_SUITE: "classe_sans_suite"}


def mutation_root(platform: Platform) -> dict[str, Callable[..., Payload]]:
    def run(name: str, change: Change, locate: Locate | None = None) -> Callable[..., Payload]:
        return lambda input: _run(platform, name, change, locate or _by_dossier_id, input)

    return {
        "dossierPasserEnInstruction": run("dossierPasserEnInstruction", _passer_en_instruction),
        "dossierAccepter": run("dossierAccepter", _decide(ACCEPTE)),
        "dossierRefuser": run("dossierRefuser", _decide(REFUSE)),
        "dossierClasserSansSuite": run("dossierClasserSansSuite", _decide(SANS_SUITE)),
        "dossierEnvoyerMessage": run("dossierEnvoyerMessage", messaging.envoyer_message),
        "dossierAnnulerDemandeCorrection": run(
            "dossierAnnulerDemandeCorrection",
            messaging.annuler_demande_correction,
            messaging.dossier_of_message,
        ),
        "dossierModifierAnnotations": run("dossierModifierAnnotations", private_annotations.modifier),
    }


def _run(platform: Platform, name: str, change: Change, locate: Locate, input: dict[str, Any]) -> Payload:
    if not platform.write_access:  # ``ready?`` runs before the ids are loaded
        return {"errors": [{"message": rules.READ_ONLY_TOKEN}],
                "clientMutationId": input.get("clientMutationId")}
    with platform.store.write() as tx:
        record = locate(tx, input)
        if record is None or not record.visible or not _loads_instructeur(input):
            # The platform loads the ids before the mutation runs (a dossier the applicant
            # deleted is not loaded: ``record_from_typed_id`` uses ``visible_by_administration``,
            # app/models/application_record.rb#L26-L38; nor is an id that names no instructeur);
            # its RecordNotFound is reported against the field's type, i.e. the payload.
            raise not_found(f"{name[0].upper()}{name[1:]}Payload")
        outcome = change(platform, tx, record, input)
        if outcome.applied:
            tx.log_mutation(name, record.number, input, tx.tick())
    payload = {key: value() if callable(value) else value for key, value in outcome.payload.items()}
    payload["errors"] = [{"message": message} for message in outcome.errors] or None
    payload["clientMutationId"] = input.get("clientMutationId")
    return payload


def _loads_instructeur(input: dict[str, Any]) -> bool:
    decoded = decode_id(str(input.get("instructeurId", "")))
    return decoded is not None and decoded[0] == "Instructeur" and decoded[1].isdigit()


def members(tx: Writer, record: DossierRecord) -> list[str]:
    return tx.groupe_members().get(record.groupe, [])


def _by_dossier_id(tx: Writer, input: dict[str, Any]) -> DossierRecord | None:
    number = decode_number(input["dossierId"], "Dossier")
    return None if number is None else tx.dossier(number)


def _reread(platform: Platform, number: int) -> Callable[[], Payload | None]:
    """The dossier as it is after the commit, built once the transaction is over."""

    def view() -> Payload | None:
        record = visible_dossier(platform, number)
        return None if record is None else dossier_view(platform, record)

    return view


def _passer_en_instruction(
    platform: Platform, tx: Writer, dossier: DossierRecord, input: dict[str, Any]
) -> Outcome:
    pending = tx.pending_correction(dossier.number) is not None
    error = rules.passer_en_instruction_error(dossier, pending) or rules.instructeur_error(
        input["instructeurId"], members(tx, dossier)
    )
    if error:
        return refused(error)
    now = tx.tick()
    tx.set_state(dossier.number, EN_INSTRUCTION, now)
    tx.add_traitement(
        dossier.number,
        EN_INSTRUCTION,
        "passe_en_instruction",
        now,
        instructeur_email=platform.instructeur_email,
    )
    notifications.state_changed(platform, tx, dossier, EN_INSTRUCTION, now,
                                notify=not input.get("disableNotification"))
    return applied(dossier=_reread(platform, dossier.number))


def _decide(state: str) -> Change:
    """accepter, refuser, classer sans suite: from ``en_instruction`` to ``state``."""

    def change(platform: Platform, tx: Writer, dossier: DossierRecord, input: dict[str, Any]) -> Outcome:
        missing = private_annotations.required_missing(platform, dossier)
        error = rules.terminer_error(dossier, bool(missing)) or rules.instructeur_error(
            input["instructeurId"], members(tx, dossier)
        )
        if error:
            return refused(error)
        now = tx.tick()
        motivation = input.get("motivation")
        tx.set_state(dossier.number, state, now, motivation=motivation)
        tx.add_traitement(
            dossier.number,
            state,
            _DECISION_EVENTS[state],
            now,
            motivation=motivation,
            instructeur_email=platform.instructeur_email,
        )
        notifications.state_changed(platform, tx, dossier, state, now,
                                    notify=not input.get("disableNotification"))
        return applied(dossier=_reread(platform, dossier.number))

    return change
