"""Payloads of the email activities."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from core.domain.cra import CraContact


class EmailRequest(BaseModel):
    """``key`` makes the send idempotent: a retry with the same key sends nothing twice."""

    key: str = Field(min_length=1, max_length=200)
    template: str
    to: list[str]
    to_bessii: bool = False  # adds the BESSII mailbox from settings (workflows never read them)
    to_admins: bool = False  # adds the service admins' mailbox (alerts on blocked dossiers)
    context: dict[str, Any] = Field(default_factory=dict)
    dossier_number: int | None = None


class CraLinkEmail(BaseModel):
    """An invitation or reminder carrying a member's personal link, minted in the activity."""

    key: str
    template: str  # cra_invitation | cra_reminder
    member: CraContact
    dossier_number: int
    round: int = 1
    deadline: datetime
    context: dict[str, Any] = Field(default_factory=dict)


class SendResult(BaseModel):
    message_id: str
    already_sent: bool
