"""What a mutation did, before it becomes a GraphQL payload."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Outcome:
    """The payload fields besides ``errors``, the errors, and whether to log the mutation.

    A payload value may be a callable: it is called after the transaction commits, so the
    dossier is shown as it is once the change is visible to everyone.
    """

    payload: dict[str, Any]
    errors: list[str]
    applied: bool


def refused(message: str) -> Outcome:
    return Outcome({}, [message], applied=False)


def applied(**payload: Any) -> Outcome:
    return Outcome(payload, [], applied=True)
