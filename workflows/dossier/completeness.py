"""Completeness: an incomplete dossier gets a correction request on the platform, reminders and
a deadline; each change is re-read and re-checked.

A round is one request. A new round starts only when the report changed, or when the platform
shows the last request resolved (the applicant submitted changes that do not fix the list): the
echo of our own message, an agent's annotation or any other change that moves the dossier's
date are re-read and change nothing. Reminders are keyed by round and by their place in the
schedule, so none is silently taken for one already sent. Executions started before this loop
(``patches.CORRECTION_ROUNDS``) keep the former one.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.platform.activities import PlatformActivities
    from activities.platform.models import PlatformMessage
    from core.domain.procedure import Stage
    from workflows import options, patches
    from workflows.waiting import wait_with_reminders

# The parts of the dossier workflow build on each other (workflow code: not passed through).
from workflows.dossier.amendments import Amendments


class Completeness(Amendments):
    async def _ensure_complete(self) -> bool:
        assert self._dossier is not None
        self._report = self._check(self._dossier)
        if self._report.complete:
            self._step("Dossier complet")
            return True
        start = workflow.now()
        deadline = start + self._policy.correction_deadline
        self._enter(Stage.AWAITING_CORRECTION, deadline, "correction par le porteur de projet")
        await self._record(details={"missing": [i.field for i in self._report.issues]})
        if self._lean or workflow.patched(patches.CORRECTION_ROUNDS.id):
            return await self._correction_rounds(start, deadline)
        return await self._former_correction_loop(start, deadline)

    async def _correction_rounds(self, start: datetime, deadline: datetime) -> bool:
        assert self._report is not None
        reminders = [start + r for r in self._policy.correction_reminders]
        round_ = 1
        await self._request_correction(round_, deadline)
        while True:
            corrected = await wait_with_reminders(
                lambda: self._changed or self._deleted or self._recheck,
                deadline, reminders, lambda _, r=round_: self._remind(r, reminders, deadline),  # type: ignore[misc]
                summary="Échéance de complétude", reminder_summary="Relance complétude")
            if not corrected or self._deleted:
                return False
            self._changed = self._recheck = False  # before the re-read: a later change counts
            previous = self._report
            dossier = await self._fetch()
            self._report = self._check(dossier)
            resolved = not dossier.pending_correction
            if resolved:
                self._step("Dossier modifié par le porteur de projet")
            if self._report.complete:
                break
            if resolved or self._report.issues != previous.issues:
                round_ += 1
                await self._request_correction(round_, deadline)
        self._step("Dossier complété")
        return True

    async def _remind(self, round_: int, reminders: list[datetime], deadline: datetime) -> None:
        if self._hidden:  # deleted by its applicant meanwhile: nothing more goes to them
            return
        place = sum(1 for r in reminders if r <= workflow.now())
        await self._email(
            f"correction-reminder-r{round_}-{place}", "correction_reminder",
            self._dossier.contact_emails if self._dossier else [], "Relance du porteur de projet",
            {"missing": self._report.summary() if self._report else "", "deadline": deadline})

    async def _former_correction_loop(self, start: datetime, deadline: datetime) -> bool:
        """The loop of executions started before 0.3.0, unchanged (their histories replay)."""
        assert self._report is not None
        requests = 0
        while not self._report.complete:
            requests += 1
            await self._request_correction(requests, deadline)
            self._changed = False
            corrected = await wait_with_reminders(
                lambda: self._changed or self._deleted or self._recheck,
                deadline,
                [start + r for r in self._policy.correction_reminders],
                lambda n: self._email(
                    f"correction-reminder-{n}", "correction_reminder",
                    self._dossier.contact_emails if self._dossier else [],
                    "Relance du porteur de projet",
                    {"missing": self._report.summary() if self._report else "",
                     "deadline": deadline}),
                summary="Échéance de complétude",
                reminder_summary="Relance complétude",
            )
            if not corrected or self._deleted:
                return False
            dossier = await self._fetch()
            self._changed = self._recheck = False
            self._report = self._check(dossier)
            self._step("Dossier modifié par le porteur de projet")
        self._step("Dossier complété")
        return True

    async def _request_correction(self, n: int, deadline: datetime) -> None:
        """The request on the platform, which emails the applicant itself (its email leads to
        the message: one channel); executions started before 0.3.0 also send ours."""
        assert self._dossier is not None and self._report is not None
        missing = self._report.summary()
        body = (f"Votre dossier est incomplet. Merci de le compléter avant le "
                f"{deadline:%d/%m/%Y} :\n{missing}")
        label = "Demande de correction sur la plateforme"
        message = PlatformMessage(number=self._number, body=body, correction=True)
        await self._on_platform("send_message", label, lambda: workflow.execute_activity_method(
            PlatformActivities.send_message, message, **options.external(label)))
        if not (self._lean or workflow.patched(patches.ONE_CHANNEL.id)):
            await self._email(f"correction-request-{n}", "correction_request",
                              self._dossier.contact_emails, "Demande de correction (courriel)",
                              {"missing": missing, "deadline": deadline})
        self._step("Demande de correction envoyée")
