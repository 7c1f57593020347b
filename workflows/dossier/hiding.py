"""A dossier its applicant deleted on the platform: hidden, restorable, then withdrawn.

The platform only hides a dossier its applicant deletes while it is en construction: at once
it is "not found" for the API (reads and mutations alike), listed by ``pendingDeletedDossiers``
(the intake tells the workflow), restorable by the applicant, and purged two weeks later
(``deletedDossiers``). So a platform step answered ``DossierNotFound`` is no failure: the
dossier stops (nothing more is sent to the applicant), waits for its restoration, and goes on
where it was once restored; it is withdrawn at the purge or when the policy's restore window
passes. Executions that never meet a hidden dossier issue exactly their former commands.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.platform.activities import NOT_FOUND
    from workflows import patches
    from workflows.payloads import DossierInput

# The parts of the dossier workflow build on each other (workflow code: not passed through).
from workflows.dossier.consultations import Consultations

T = TypeVar("T")


class Withdrawn(Exception):
    """Raised inside the run when a hidden dossier is purged or its restore window passes."""


class _NotFound(Exception):
    """A platform step answered that the dossier is not (or no longer) shown."""


class Hiding(Consultations):
    def __init__(self, input: DossierInput) -> None:
        super().__init__(input)
        self._hidden = False  # the platform hides the dossier (its applicant deleted it)
        self._hidden_since: datetime | None = None
        self._next_before_hidden = ""

    async def _on_platform(self, step: str, label: str, start: Callable[[], Awaitable[T]], *,
                           skippable: bool = True) -> T | None:
        while True:
            try:
                result = await self._guarded(step, label, lambda: self._not_found_raised(start),
                                             skippable=skippable)
            except _NotFound:
                await self._await_restoration()
                continue
            if self._hidden_since is not None:
                self._hidden_since = None
                self._step("Dossier restauré par le porteur de projet sur la plateforme")
                self._publish(self._next_before_hidden)
            return result

    async def _not_found_raised(self, start: Callable[[], Awaitable[T]]) -> T:
        try:
            return await start()
        except ActivityError as err:
            cause = err.cause
            if (isinstance(cause, ApplicationError) and cause.type == NOT_FOUND
                    and workflow.patched(patches.HIDDEN_DOSSIER.id)):
                raise _NotFound from err
            raise

    async def _await_restoration(self) -> None:
        """Until the applicant restores the dossier (a visible change is notified: the step is
        tried again), the platform purges it, or the restore window passes (``Withdrawn``)."""
        now = workflow.now()
        self._hidden = True
        if self._hidden_since is None:
            self._hidden_since = now
            until = now + self._policy.restore_window
            self._step("Dossier supprimé par le porteur de projet sur la plateforme (restaurable "
                       f"jusqu’au {until:%d/%m/%Y})")
            self._next_before_hidden = self._next_step
            self._publish(f"restauration du dossier par le porteur de projet, au plus tard le "
                          f"{until:%d/%m/%Y} (sinon retrait)")
        until = self._hidden_since + self._policy.restore_window
        if until <= now:
            raise Withdrawn
        try:
            await workflow.wait_condition(lambda: self._deleted or not self._hidden,
                                          timeout=until - now,
                                          timeout_summary="Fin du délai de restauration")
        except TimeoutError:
            raise Withdrawn from None
        if self._deleted:
            raise Withdrawn
