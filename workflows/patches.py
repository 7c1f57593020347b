"""The register of ``workflow.patched`` markers: each change to workflow code that running
executions must not see, with the release it came in and the condition to retire it.

A patch lives in three steps (Temporal's own procedure):
1. ``workflow.patched(ID)`` guards the new code; executions started before it replay the old.
2. Once no execution that may still replay started before the release (open ones, and closed
   ones still inside the namespace's retention that an admin could reset), the old branch is
   deleted and the call becomes ``workflow.deprecate_patch(ID)``.
3. Once no open execution holds the marker any more, the call is removed.
``ptce admin replay --query`` over the cluster's open executions tells when step 2 is safe:
``tests/workflows/test_patches.py`` checks that every marker used is registered here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Patch:
    id: str
    since: str  # the release that introduced it
    what: str
    retire_when: str


ADMIN_AMENDMENTS = Patch(
    "admin-amendments-v1", "0.2.0",
    "CRA consultations wait on a deadline that may move (admin extension or shortening)",
    "no CraConsultationWorkflow started before 0.2.0 is open or resettable")
DEADLINE_NOTICE = Patch(
    "deadline-notice-v1", "0.2.0",
    "a moved consultation deadline is signalled to the dossier",
    "no CraConsultationWorkflow that moved a deadline before 0.2.0 is open or resettable")
PROMPT_ANSWER = Patch(
    "prompt-answer-v1", "0.2.0",
    "a CRA answer's Update returns once its notice to the dossier is sent, not delivered",
    "no CraConsultationWorkflow answered before 0.2.0 is open or resettable")
ADMIN_RECHECK = Patch(
    "admin-recheck-v1", "0.2.0",
    "an admin's referent correction re-reads the dossier through its own flag (never lost)",
    "no DossierWorkflow corrected before 0.2.0 is open or resettable")

REMINDER_NOTICE = Patch(
    "reminder-notice-v1", "0.3.0",
    "a CRA consultation tells the dossier of each reminder it sends (current details, synthesis)",
    "no CraConsultationWorkflow that sent a reminder before 0.3.0 is open or resettable")
SYNTHESIS_RECORDER = Patch(
    "synthesis-recorder-v1", "0.3.0",
    "the dossier writes BESSII's synthesis when a consultation moves, not only at stage changes",
    "no DossierWorkflow that opened a consultation before 0.3.0 is open or resettable")
HIDDEN_DOSSIER = Patch(
    "hidden-dossier-v1", "0.3.0",
    "a dossier the platform no longer shows (deleted by its applicant) waits for its "
    "restoration, then withdraws, instead of parking the step",
    "no DossierWorkflow that got DossierNotFound before 0.3.0 is open or resettable")
CORRECTION_ROUNDS = Patch(
    "correction-rounds-v1", "0.3.0",
    "the correction loop re-requests only when the report changed or the applicant resolved "
    "the request, keys reminders per round, and keeps a change arriving during a re-read",
    "no DossierWorkflow started before 0.3.0 is open or resettable")
ONE_CHANNEL = Patch(
    "one-channel-v1", "0.3.0",
    "no acknowledgement nor correction-request email of ours: the platform sends its own",
    "no DossierWorkflow started before 0.3.0 is open or resettable")
REFERENT_EMAIL = Patch(
    "referent-email-v1", "0.3.0",
    "completeness requires the referent's email to be one valid address (issue 15)",
    "no DossierWorkflow that checked completeness before 0.3.0 is open or resettable")
SEALED_CLOSE = Patch(
    "sealed-close-v1", "0.3.0",
    "a consultation ignores a close signal without its (encrypted) payload (issue 15)",
    "no CraConsultationWorkflow started before 0.3.0 is open or resettable")

AMENDMENT_QUEUE = Patch(
    "amendment-queue-v1", "0.4.0",
    "agent and admin Updates return at once: their slow work (consultations opened or closed, "
    "emails, notices) is queued and worked through by the run, in order (issue 16)",
    "no DossierWorkflow nor CraConsultationWorkflow started before 0.4.0 is open or resettable")
LEAN_PATH = Patch(
    "lean-path-v1", "0.4.0",
    "fewer round trips per dossier (issue 18), decided once at run start (``workflows.lean``): "
    "the store activities run as local activities, a search-attribute upsert only carries what "
    "changed, a consultation gets its attributes at start, and the markers of every patch above "
    "are implied (an execution that has this one started after all of them; AMENDMENT_QUEUE, "
    "of the same release, was on main before this one was recorded)",
    "no DossierWorkflow or CraConsultationWorkflow started before 0.4.0 is open or resettable")

REGISTER: tuple[Patch, ...] = (ADMIN_AMENDMENTS, DEADLINE_NOTICE, PROMPT_ANSWER, ADMIN_RECHECK,
                               REMINDER_NOTICE, SYNTHESIS_RECORDER, HIDDEN_DOSSIER,
                               CORRECTION_ROUNDS, ONE_CHANNEL, REFERENT_EMAIL, SEALED_CLOSE,
                               AMENDMENT_QUEUE, LEAN_PATH)
