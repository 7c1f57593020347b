"""The intake's quarantine: a new dossier it cannot read (a top-level error such as
``invalid_null``, which the platform calls "bad data", app/graphql/api/v2/schema.rb#L148-L160) or
cannot map (champs that do not fit the mapping file) is set aside, the admins are told, and it
is retried on its own with a growing delay, while the rest of the démarche flows. Its edge is
marked seen; a later change of the dossier tries it again at once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from activities.alerts import AdminAlerts
from activities.platform.client import PlatformRejected
from core.db.engine import Database
from core.db.repositories import QuarantineRepository
from core.telemetry.logs import redact

log = logging.getLogger("ptce.intake")
FIRST_RETRY = timedelta(minutes=5)  # then doubling, up to about 10 hours


def is_poison(exc: BaseException) -> bool:
    """This dossier's own trouble (not the platform's nor the token's)."""
    return isinstance(exc, PlatformRejected | ValueError | KeyError | TypeError)


class Quarantine:
    def __init__(self, db: Database, alerts: AdminAlerts | None) -> None:
        self._db = db
        self._alerts = alerts
        self.held: set[int] = set()  # the démarche's quarantined dossiers (``load``, ``hold``)

    async def load(self, demarche: int) -> None:
        async with self._db.unit_of_work() as session:
            self.held = {row.number for row in await QuarantineRepository(session).all(demarche)}

    async def hold(self, demarche: int, number: int, exc: BaseException) -> None:
        error = f"{type(exc).__name__}: {redact(str(exc))[:400]}"
        async with self._db.unit_of_work() as session:
            row = await QuarantineRepository(session).record(
                demarche, number, error, datetime.now(UTC), FIRST_RETRY)
            attempts = row.attempts
        self.held.add(number)
        log.warning("dossier quarantined", extra={"dossier": number, "attempts": attempts,
                                                  "error_type": type(exc).__name__})
        if self._alerts is not None:
            await self._alerts.quarantined(number, error, attempts)

    async def due(self, demarche: int) -> list[int]:
        async with self._db.unit_of_work() as session:
            rows = await QuarantineRepository(session).due(demarche, datetime.now(UTC))
            return [row.number for row in rows]

    async def release(self, number: int) -> bool:
        self.held.discard(number)
        async with self._db.unit_of_work() as session:
            return await QuarantineRepository(session).release(number)
