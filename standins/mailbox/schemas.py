"""JSON shapes of the mailbox API, used by tests and chaos scripts."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from standins.mailbox.store import StoredMessage


class MessageOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: int
    message_id: str
    from_: str = Field(alias="from")
    to: list[str]
    subject: str
    received_at: datetime
    text: str
    html: str | None

    @classmethod
    def of(cls, message: StoredMessage) -> MessageOut:
        return cls(
            id=message.id,
            message_id=message.message_id,
            from_=message.sender,
            to=message.recipients,
            subject=message.subject,
            received_at=message.received_at,
            text=message.text,
            html=message.html,
        )


class Faults(BaseModel):
    reject_count: int = Field(ge=0, description="Next SMTP transactions answered 451 at DATA")
    refused_recipients: list[str] = Field(
        default_factory=list, description="Addresses answered 550 at RCPT (unknown user), "
        "naming the address as real relays do (Postfix)")


class Cleared(BaseModel):
    deleted: int
