"""Delays, reminder schedules and length budgets of the procedure.

A dossier copies the policy into its workflow input when it starts: a running dossier keeps the
policy it started with, whatever the settings become later.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field, model_validator


def _days(n: float) -> timedelta:
    return timedelta(days=n)


class LengthBudgets(BaseModel):
    """Annexe 1 writes limits in pages and lines; we check characters."""

    page_chars: int = Field(default=3000, gt=0)
    line_chars: int = Field(default=100, gt=0)

    def pages(self, n: float) -> int:
        return int(self.page_chars * n)

    def lines(self, n: int) -> int:
        return self.line_chars * n


class Policy(BaseModel):
    correction_deadline: timedelta = _days(30)
    correction_reminders: list[timedelta] = Field(default_factory=lambda: [_days(14), _days(25)])
    cra_deadline: timedelta = _days(21)
    cra_reminders: list[timedelta] = Field(default_factory=lambda: [_days(7), _days(14)])
    cra_final_reminder_before: timedelta = _days(2)
    bessii_reminder_after: timedelta = _days(7)
    bessii_reminder_every: timedelta = _days(7)
    # An applicant who deletes a dossier may restore it until the platform purges it, two weeks
    # later (``Dossier::REMAINING_WEEKS_BEFORE_DELETION``): then, or at the purge, it is withdrawn.
    restore_window: timedelta = _days(14)
    budgets: LengthBudgets = LengthBudgets()

    @model_validator(mode="after")
    def _reminders_before_deadlines(self) -> Policy:
        if any(r >= self.correction_deadline for r in self.correction_reminders):
            raise ValueError("correction reminders must fall before the correction deadline")
        if any(r >= self.cra_deadline for r in self.cra_reminders):
            raise ValueError("CRA reminders must fall before the consultation deadline")
        if self.bessii_reminder_every <= timedelta(0):
            raise ValueError("bessii_reminder_every must be positive")
        return self

    def cra_reminder_offsets(self) -> list[timedelta]:
        """Offsets from the consultation start, sorted, without duplicates."""
        final = self.cra_deadline - self.cra_final_reminder_before
        offsets = {*self.cra_reminders}
        if timedelta(0) < final < self.cra_deadline:
            offsets.add(final)
        return sorted(offsets)
