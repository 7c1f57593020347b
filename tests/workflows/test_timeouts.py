"""Timeouts that nest: a request to another service < an activity attempt < its schedule, for
every activity option set the workflows use (``workflows/options.py``); the platform client
bounds a whole request; the intake heartbeats while a slow page is read and waits out the rate
limit for a bounded time."""

from __future__ import annotations

import ast
import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.testing import ActivityEnvironment

import activities.intake_cursors as cursors
from activities.heartbeats import BEATS_PER_TIMEOUT
from activities.intake import SYNC_BUDGET
from activities.intake_cursors import MAX_RATE_LIMIT_WAIT, Pager
from activities.platform.client import PlatformRateLimited, PlatformUnavailable
from core.settings import PlatformSettings, SmtpSettings
from core.timeouts import HTTP_CALLS_PER_ATTEMPT, HTTP_TIMEOUT, SMTP_STEPS, SMTP_TIMEOUT
from tests.activities.standin import StandIn
from workflows import options

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
TIMEOUT_KEYWORDS = {"start_to_close_timeout", "schedule_to_close_timeout", "heartbeat_timeout",
                    "schedule_to_start_timeout", "retry_policy"}
# What each option set's activities call: the longest one request of theirs can take, and how
# many they make one after the other in an attempt.
CALLS = {"external": max(HTTP_TIMEOUT * HTTP_CALLS_PER_ATTEMPT, SMTP_TIMEOUT * SMTP_STEPS),
         "alert": SMTP_TIMEOUT * SMTP_STEPS, "local": timedelta(0), "store": timedelta(0),
         "intake": HTTP_TIMEOUT}


@pytest.mark.parametrize("name", sorted(options.ALL))
def test_each_option_set_nests_request_attempt_and_schedule(name: str) -> None:
    chosen: dict[str, Any] = options.ALL[name]("résumé")
    attempt: timedelta = chosen["start_to_close_timeout"]
    schedule: timedelta | None = chosen.get("schedule_to_close_timeout")
    heartbeat: timedelta | None = chosen.get("heartbeat_timeout")
    policy = chosen["retry_policy"]

    assert CALLS[name] < attempt, f"{name}: a retry could race a request still in flight"
    if schedule is not None:
        assert attempt * 2 <= schedule, f"{name}: fewer than two attempts fit the schedule"
        assert policy.maximum_interval is not None and policy.maximum_interval < schedule
    else:  # only the intake retries forever: it is the service's own pulse
        assert name == "intake"
    if heartbeat is not None and name == "intake":  # beats between pages and while one lasts
        assert HTTP_TIMEOUT < heartbeat < attempt
        assert timedelta(seconds=cursors.HEARTBEAT_EVERY) * 2 <= heartbeat
    elif heartbeat is not None:  # beaten for by the worker (activities/heartbeats.py)
        assert heartbeat < attempt and BEATS_PER_TIMEOUT >= 2
    if name == "intake":
        # One poll's pages, the rate limit's waits and the request in flight all fit the attempt.
        assert attempt > SYNC_BUDGET + MAX_RATE_LIMIT_WAIT + HTTP_TIMEOUT
        assert heartbeat is not None


def test_the_settings_cannot_stretch_a_request_past_what_the_attempts_allow() -> None:
    assert PlatformSettings().timeout_seconds == HTTP_TIMEOUT.total_seconds()
    with pytest.raises(ValidationError):
        PlatformSettings(timeout_seconds=HTTP_TIMEOUT.total_seconds() + 1)
    with pytest.raises(ValidationError):
        SmtpSettings(timeout_seconds=SMTP_TIMEOUT.total_seconds() + 1)


def _is_super(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"


def _activity_calls() -> list[tuple[str, ast.Call]]:
    calls = []
    for path in sorted(WORKFLOWS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr.startswith(("execute_activity", "start_activity",
                                               "execute_local_activity", "start_local_activity")) \
                    and not _is_super(node.func.value):  # an interceptor passing a call on
                calls.append((f"{path.relative_to(WORKFLOWS)}:{node.lineno}", node))
    return calls


def test_every_activity_of_the_workflows_takes_its_options_from_the_policy_module() -> None:
    calls = _activity_calls()
    assert len(calls) >= 10
    for where, call in calls:
        own = {k.arg for k in call.keywords if k.arg} & TIMEOUT_KEYWORDS
        assert not own, f"{where} sets {own} itself"
        spread = [k.value for k in call.keywords if k.arg is None]
        assert any(isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute)
                   and isinstance(v.func.value, ast.Name) and v.func.value.id == "options"
                   and v.func.attr in options.ALL for v in spread), \
            f"{where}: no **options.<set>(…)"


async def test_a_whole_platform_request_is_bounded(tmp_path: Path) -> None:
    """httpx bounds each read; a slow answer as a whole is cut at the client's timeout."""
    standin = StandIn.create(tmp_path / "platform.db")
    number = await standin.file(0)
    await standin.http.post("/_standin/faults", json={"delay_ms": 3000, "count": 1})
    ds = standin.ds()
    ds._timeout = 0.3  # the setting, at its smallest
    started = asyncio.get_running_loop().time()
    with pytest.raises(PlatformUnavailable, match=r"did not answer within 0\.3s"):
        await ds.execute("get_dossier", {"dossierNumber": number})
    assert asyncio.get_running_loop().time() - started < 2.0


async def test_the_intake_heartbeats_while_a_slow_page_is_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    standin = StandIn.create(tmp_path / "platform.db")
    number = await standin.file(0)
    monkeypatch.setattr(cursors, "HEARTBEAT_EVERY", 0.2)
    await standin.http.post("/_standin/faults", json={"delay_ms": 1000, "count": 1})
    beats: list[object] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.extend(details)

    async def read() -> dict[str, Any]:
        return await Pager(standin.ds()).query("get_dossier", {"dossierNumber": number})

    data = await env.run(read)
    assert data["dossier"]["number"] == number
    assert beats.count("reading the platform") >= 3


async def test_the_intake_waits_out_the_rate_limit_for_a_bounded_time(tmp_path: Path) -> None:
    """A platform that keeps answering 429: waited out in place (``RateLimit-Reset``) up to
    the bound, then the error goes to Temporal's retry rather than holding the attempt."""
    standin = StandIn.create(tmp_path / "platform.db")
    number = await standin.file(0)
    await standin.http.post("/_standin/faults",
                            json={"status": 429, "count": 10, "retry_after": 1})
    beats: list[object] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.extend(details)
    pager = Pager(standin.ds(), max_wait=2.5)

    async def read() -> dict[str, Any]:
        return await pager.query("get_dossier", {"dossierNumber": number})

    with pytest.raises(PlatformRateLimited):
        await env.run(read)
    assert 0 < pager.waited <= 2.5
    assert "rate limited" in beats
    assert MAX_RATE_LIMIT_WAIT < options.INTAKE_ATTEMPT
