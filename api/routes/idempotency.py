"""One request, applied once: the Update id every agent and admin action is sent with.

A client sends ``Idempotency-Key`` (the JSON API), a page sends the token of the form it served
(``idempotency_key``, new on every rendering), ``ptce admin`` one per invocation; without one a
fresh id is drawn (nothing to retry against). The Update id is ``<action>:<key>``: one key
reused for two different actions does not make the second a retry of the first. Temporal
answers a retry with the same id from its record of the run; the workflow remembers the ids it
applied too (``workflows.requests``), so a retry applies nothing, whenever it comes.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import Header

HEADER = "Idempotency-Key"
MAX_LENGTH = 200
_VISIBLE = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces

IdempotencyKey = Annotated[str | None, Header(
    alias=HEADER, max_length=MAX_LENGTH, pattern=_VISIBLE.pattern,
    description="Clé d’idempotence : une requête répétée avec la même clé n’est appliquée "
                "qu’une fois")]


def new_key() -> str:
    return uuid.uuid4().hex


def valid(key: object) -> str | None:
    """A key taken from a form: kept if well-formed, else None (a fresh one is drawn)."""
    return key if isinstance(key, str) and _VISIBLE.match(key) else None


def update_id(action: str, key: str | None) -> str:
    return f"{action}:{key or new_key()}"
