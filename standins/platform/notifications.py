"""What the platform itself tells the applicant: an email at each state change (unless the
mutation says ``disableNotification``), an email for each instructeur message, and a system
message in the messagerie for each state change. The emails are kept (``/_standin/emails``) so a
test can count, per applicant, the platform's emails beside the service's own.

Sources (demarche.numerique.gouv.fr @ e1338d7):
- ``app/models/concerns/dossier_state_concern.rb``: ``after_commit_passer_en_construction``
  always sends ``send_en_construction_notification`` (#L47-L48); ``passer_en_instruction``,
  ``accepter``, ``refuser`` and ``classer_sans_suite`` send theirs unless ``disable_notification``
  (#L81-L87, #L162-L174, #L236-L248, #L309-L319); each transition also writes
  ``MailTemplatePresenterService.create_commentaire_for_state`` (#L38, #L75, #L157, #L231, #L304),
  a message from ``CONTACT_EMAIL`` ("[subject]" then the template's body);
- ``app/models/commentaire.rb#L119-L138``: an instructeur's message emails the applicant (after
  5 minutes: the stand-in sends at once) with ``notify_pending_correction`` when it asks for a
  correction, ``notify_new_answer`` otherwise; ``dossierEnvoyerMessage`` has no
  ``disableNotification``;
- subjects: ``config/locales/models/mail/*/fr.yml`` (default templates, which each démarche may
  rewrite) and ``config/locales/views/dossier_mailer/notify_*/fr.yml``.
"""

from __future__ import annotations

from standins.platform.context import Platform
from standins.platform.records import (
    ACCEPTE,
    EN_CONSTRUCTION,
    EN_INSTRUCTION,
    REFUSE,
    SANS_SUITE,
    DossierRecord,
)
from standins.platform.writes import Writer

CONTACT_EMAIL = "contact@demarche.numerique.gouv.fr"

# state -> (subject, body) of the démarche's default mail templates
_STATE_MAILS: dict[str, tuple[str, str]] = {
    EN_CONSTRUCTION: ("Votre dossier n° {n} a bien été déposé ({t})",
                      "Votre administration vous confirme la bonne réception de votre dossier."),
    EN_INSTRUCTION: ("Votre dossier n° {n} va être examiné ({t})",
                     "Votre dossier est passé en instruction : il va être examiné."),
    ACCEPTE: ("Votre dossier n° {n} a été accepté ({t})", "Votre dossier a été accepté."),
    REFUSE: ("Votre dossier n° {n} a été refusé ({t})", "Votre dossier a été refusé."),
    SANS_SUITE: ("Votre dossier n° {n} a été classé sans suite ({t})",
                 "Votre dossier a été classé sans suite."),
}
PENDING_CORRECTION_SUBJECT = "Vous devez corriger votre dossier n° {n} « {t} »"
NEW_ANSWER_SUBJECT = "Nouveau message pour votre dossier n° {n} « {t} »"


def state_changed(platform: Platform, tx: Writer, record: DossierRecord, state: str, now: int,
                  *, notify: bool = True) -> None:
    """The system message of a transition, and its email unless ``disableNotification``."""
    subject, body = _STATE_MAILS[state]
    subject = subject.format(n=record.number, t=platform.demarche.title)
    tx.add_message(record.number, CONTACT_EMAIL, f"<p>[{subject}]</p><p>{body}</p>", now, None)
    if notify:
        tx.add_notification(record.number, record.usager_email, state, subject, body, now)


def instructeur_message(platform: Platform, tx: Writer, record: DossierRecord,
                        correction: bool, now: int) -> None:
    """The email does not carry the message: it sends the applicant to the messagerie
    (``app/views/dossier_mailer/notify_pending_correction.html.haml``, ``notify_new_answer``)."""
    template = PENDING_CORRECTION_SUBJECT if correction else NEW_ANSWER_SUBJECT
    subject = template.format(n=record.number, t=platform.demarche.title)
    body = ("Afin de commencer son instruction, un instructeur vous demande de compléter votre "
            "dossier. Consultez la messagerie de votre dossier pour prendre connaissance des "
            "modifications à effectuer, puis modifiez le dossier directement sur le site."
            if correction else "Vous avez reçu un nouveau message de la part de l’administration "
            "en charge de votre dossier. Pour consulter le message et y répondre, ouvrez la "
            "messagerie de votre dossier.")
    tx.add_notification(record.number, record.usager_email,
                        "pending_correction" if correction else "new_answer", subject, body, now)
