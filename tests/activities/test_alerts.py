"""The admins' alert claims, on SQLite and on PostgreSQL (``TEST_DATABASE_URL``): a worker killed
between its claim and the record of its email (the process chaos test met one) does not keep the
alert from going that day."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update

from activities.alerts import CLAIM_LEASE, AdminAlerts
from activities.platform.client import PlatformAuth
from core.db.engine import Database, create_engine
from core.db.repositories import SentEmailRepository
from core.db.tables import AlertClaim


class Mail:
    """The mail activity's ``deliver``: records each key it is asked to send."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    async def deliver(self, request: Any) -> None:
        self.keys.append(request.key)


async def _alert(db: Database) -> tuple[Mail, str | None]:
    mail = Mail()
    await AdminAlerts(mail, db).platform(  # type: ignore[arg-type]
        PlatformAuth("Token expired", cause="token-expired"), 1, "test")
    return mail, (mail.keys[0] if mail.keys else None)


async def _age_claims(db: Database, by: Any) -> None:
    async with db.unit_of_work() as session:
        await session.execute(update(AlertClaim).values(claimed_at=datetime.now(UTC) - by))


async def test_a_claim_whose_sender_died_is_taken_over_once_its_lease_has_passed(
        db: Database) -> None:
    _, key = await _alert(db)  # the first sender claims it, then dies before the record
    assert key is not None and key.startswith("platform-alert:token-expired:")

    again, _ = await _alert(db)
    assert again.keys == []  # a live claim: another worker is sending it

    await _age_claims(db, CLAIM_LEASE * 1.5)
    taken, _ = await _alert(db)
    assert taken.keys == [key]  # same key, hence the same Message-ID
    after, _ = await _alert(db)
    assert after.keys == []  # the new claim is live: one taker


async def test_an_old_claim_whose_email_was_recorded_is_not_sent_again(db: Database) -> None:
    _, key = await _alert(db)
    assert key is not None
    async with db.unit_of_work() as session:
        SentEmailRepository(session).add(key, "<m@ptce.localhost>", "platform_alert", None)
    await _age_claims(db, CLAIM_LEASE * 1.5)

    later, _ = await _alert(db)

    assert later.keys == []


async def test_an_unreachable_database_keeps_the_alert_from_changing_the_activitys_error(
        tmp_path: Path) -> None:
    """The claim cannot be made (no database): nothing is sent, nothing is raised."""
    broken = Database(create_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/ptce.db"))
    try:
        mail, key = await _alert(broken)
    finally:
        await broken.dispose()
    assert (mail.keys, key) == ([], None)
