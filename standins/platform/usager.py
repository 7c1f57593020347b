"""What applicants (and the platform's own housekeeping) do to dossiers outside the API:
file a dossier, edit it while it is ``en_construction``, delete it, restore it; the purge.

Deleting is hiding first (app/models/dossier.rb @ e1338d7): an applicant's deletion sets
``hidden_by_user_at`` (``hide_and_keep_track!``, #L893-L901); an en-construction dossier is then
gone for instructeurs and the API at once (``visible_by_administration``, #L243-L248) and listed
by ``pendingDeletedDossiers``; the applicant may restore it (``restore``, #L920-L940) until the
daily purge, two weeks later (``REMAINING_WEEKS_BEFORE_DELETION``, #L34; #L368-L372), turns it
into a ``DeletedDossier`` (``purge_discarded``, #L1044-L1058). An instructeur's or the
platform's own deletion (``instructeur_request``, ``expired``…) is modelled as purged at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from standins.platform import notifications
from standins.platform.context import Platform
from standins.platform.fields import champ_values
from standins.platform.records import EN_CONSTRUCTION, EN_INSTRUCTION, DossierRecord
from standins.platform.rules import STATE_LABELS

DELETION_REASONS = frozenset(
    {
        "user_request",
        "manager_request",
        "instructeur_request",
        "expired",
        "user_expired",
        "user_removed",
        "procedure_removed",
    }
)
RESTORE_WINDOW = timedelta(weeks=2)


class DossierNotFound(LookupError):
    pass


class DossierNotEditable(RuntimeError):
    pass


def _groupe(platform: Platform, champs: Mapping[str, Any]) -> int:
    region = platform.demarche.champ_by_field.get("region")
    return platform.demarche.route(str(champs.get(region.id) or "") if region else None)


def deposer(platform: Platform, usager_email: str, fields: Mapping[str, Any]) -> int:
    """File a dossier: it arrives ``en_construction``, routed to its groupe, with a ``depose``
    traitement, the platform's acknowledgement email and its system message."""
    champs = champ_values(platform.demarche, fields)
    with platform.store.write() as tx:
        now = tx.tick()
        number = tx.insert_dossier(usager_email, champs, now, _groupe(platform, champs))
        record = tx.dossier(number)
        assert record is not None
        notifications.state_changed(platform, tx, record, EN_CONSTRUCTION, now)
        return number


def modifier(platform: Platform, number: int, fields: Mapping[str, Any]) -> DossierRecord:
    """The applicant submits changes: routed again, and a pending correction is resolved
    (``usager_submit_en_construction!``, app/models/concerns/dossier_state_concern.rb#L6-L17)."""
    champs = champ_values(platform.demarche, fields)
    with platform.store.write() as tx:
        record = _existing(tx.dossier(number))
        if record.state != EN_CONSTRUCTION:
            label = STATE_LABELS[record.state]
            raise DossierNotEditable(f"Le dossier n’est plus modifiable par l’usager : il est {label}")
        now = tx.tick()
        merged = {**record.champs, **champs}
        tx.update_champs(number, merged, now)
        tx.connection.execute("UPDATE dossiers SET groupe = ? WHERE number = ?",
                              (_groupe(platform, merged), number))
        tx.resolve_corrections(number, now)
    return _existing(platform.store.dossier(number))


def supprimer(platform: Platform, number: int, reason: str = "user_request") -> str:
    """Returns what happened: ``hidden`` (the applicant's deletion) or ``purged``."""
    if reason not in DELETION_REASONS:
        raise ValueError(f"Motif de suppression inconnu : {reason}")
    with platform.store.write() as tx:
        record = _existing(tx.dossier(number))
        if reason != "user_request":
            tx.purge(record, reason, tx.tick())
            return "purged"
        if record.state == EN_INSTRUCTION:  # ``can_be_deleted_by_user?`` (#L594-L596)
            raise DossierNotEditable("Un dossier en instruction ne peut pas être supprimé")
        tx.hide(number, reason, tx.tick())
        return "hidden"


def restaurer(platform: Platform, number: int) -> DossierRecord:
    with platform.store.write() as tx:
        record = tx.dossier(number)
        if record is None or record.deleted_at is not None or record.hidden_by_user_at is None:
            raise DossierNotFound("Aucun dossier supprimé à restaurer")
        tx.restore(number, tx.tick())
    return _existing(platform.store.dossier(number))


def purger(platform: Platform, older_than: timedelta = RESTORE_WINDOW) -> list[int]:
    """The daily purge (``Cron::DiscardedDossiersDeletionJob``): dossiers the applicant deleted
    more than ``older_than`` ago become ``DeletedDossier`` rows. Returns their numbers."""
    with platform.store.write() as tx:
        now = tx.tick()
        limit = now - int(older_than.total_seconds() * 1_000_000)
        rows = tx.connection.execute(
            "SELECT number FROM dossiers WHERE deleted_at IS NULL AND hidden_by_user_at IS NOT"
            " NULL AND hidden_by_user_at <= ? AND state = ? ORDER BY number",
            (limit, EN_CONSTRUCTION)).fetchall()
        purged = []
        for (number,) in rows:
            record = tx.dossier(int(number))
            assert record is not None
            tx.purge(record, record.hidden_reason or "user_request", now)
            purged.append(record.number)
        return purged


def _existing(record: DossierRecord | None) -> DossierRecord:
    if record is None or not record.visible:
        raise DossierNotFound("Dossier introuvable")
    return record
