"""The platform's state rules for instructeur mutations, with its exact French messages.

Sources: ``app/graphql/mutations/dossier_*.rb`` (``authorized?``), ``DossierHelper#
dossier_display_state`` and ``DossierCorrectableConcern`` in demarche.numerique.gouv.fr.
Each check returns the message the platform puts in the payload's ``errors``, or None.
The platform checks the state first and the instructeur's access second; so do we.
"""

from __future__ import annotations

from standins.platform.records import (
    ACCEPTE,
    EN_CONSTRUCTION,
    EN_INSTRUCTION,
    REFUSE,
    SANS_SUITE,
    DossierRecord,
)

# config/locales/models/dossier/fr.yml, lower-cased as the mutations do.
STATE_LABELS: dict[str, str] = {
    EN_CONSTRUCTION: "en construction",
    EN_INSTRUCTION: "en instruction",
    ACCEPTE: "accepté",
    REFUSE: "refusé",
    SANS_SUITE: "classé sans suite",
}

INSTRUCTEUR_FORBIDDEN = "L’instructeur n’a pas les droits d’accès à ce dossier"
SIRET_DEGRADED = ("Les informations du SIRET du dossier ne sont pas complètes. Veuillez réessayer "
                  "plus tard.")
READ_ONLY_TOKEN = "Le jeton utilisé est configuré seulement en lecture"  # base_mutation.rb#L9-L15
PENDING_CORRECTION = "Le dossier est en attente de correction"
CORRECTION_ALREADY_PENDING = "Une demande de correction est déjà en attente sur ce dossier"
EMPTY_MESSAGE = "Votre message ne peut être vide"


def already(state: str) -> str:
    return f"Le dossier est déjà {STATE_LABELS[state]}"


def passer_en_instruction_error(dossier: DossierRecord, pending_correction: bool) -> str | None:
    """The stand-in models a démarche with the ``blocking_pending_correction`` feature on
    (``Dossier#blocked_with_pending_correction?``, app/models/dossier.rb#L562-L564); without it
    the platform would pass the dossier and resolve the correction. The service cancels a
    pending correction first, which is right either way."""
    if dossier.state != EN_CONSTRUCTION:
        return already(dossier.state)
    if pending_correction:
        return PENDING_CORRECTION
    return None


def terminer_error(dossier: DossierRecord, annotations_missing: bool) -> str | None:
    """accepter, refuser and classer sans suite (app/graphql/mutations/dossier_accepter.rb#L32-L38):
    from ``en_instruction`` only, and only when ``Dossier#can_terminer?`` (app/models/dossier.rb
    #L540-L545): no SIRET in degraded mode, no required private annotation left empty. The
    second refusal reads, misleadingly, "Le dossier est déjà en instruction"."""
    if dossier.state == EN_INSTRUCTION and dossier.siret_degraded:
        return SIRET_DEGRADED
    if dossier.state != EN_INSTRUCTION or annotations_missing:
        return already(dossier.state)
    return None


def correction_error(dossier: DossierRecord, pending_correction: bool) -> str | None:
    if pending_correction:
        return CORRECTION_ALREADY_PENDING
    if dossier.state not in (EN_CONSTRUCTION, EN_INSTRUCTION):
        label = STATE_LABELS[dossier.state]
        return f"Le dossier ne peut pas faire l’objet d’une demande de correction car il est {label}"
    return None


def instructeur_error(instructeur_id: str, members: list[str]) -> str | None:
    """The instructeur must belong to the dossier's groupe (``instructeur.dossiers.exists?``,
    app/graphql/mutations/base_mutation.rb#L49-L55)."""
    return None if instructeur_id in members else INSTRUCTEUR_FORBIDDEN


def annotation_not_found(annotation_id: str) -> str:
    # The platform really opens with U+2018 here, unlike its other messages.
    return f'L‘annotation "{annotation_id}" n’existe pas'


def annotation_wrong_type(annotation_id: str) -> str:
    return f'L‘annotation "{annotation_id}" n’est pas de type attendu'
