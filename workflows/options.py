"""Timeouts and retry policies of activities, in one place: every option set the workflows use.

They nest (``core/timeouts.py``, checked by ``tests/workflows/test_timeouts.py``):

- a request to another service is bounded as a whole (HTTP 30 s, SMTP 15 s per step);
- an attempt (``start_to_close``) outlasts every request it can make one after the other, so
  Temporal never starts a retry while a mutation of the previous attempt is still in flight;
- the schedule (``schedule_to_close``) lasts days: an outage, an expired token or a
  misconfiguration retries with backoff (and an alert) for that long, then the step is parked
  in the blocked state (``workflows/blocking.py``) for an admin to resume, never Failed.

Attempts to other services heartbeat (``activities/heartbeats.py`` beats for them while they
run): a worker killed in the middle of one has it retried elsewhere within
``EXTERNAL_HEARTBEAT``, not after the whole attempt. So do the store activities that run as
scheduled activities (``store``), within ``STORE_HEARTBEAT``.

The intake's poll has no schedule limit (it is the service's heartbeat: it must always come
back) and a heartbeat timeout instead, so that a killed worker's poll is taken up at once.
Changing these values changes no command a workflow issues: running histories replay.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy

from core.timeouts import HTTP_CALLS_PER_ATTEMPT, HTTP_TIMEOUT, SMTP_STEPS, SMTP_TIMEOUT

# Side effects on other organisations' services: retry transport failures for days with
# backoff (an outage must not fail a dossier); business refusals are non-retryable errors.
EXTERNAL = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=["PlatformRejected"],
)
LOCAL = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
# The alert to the admins must not itself park anything: a bounded schedule, then given up.
ALERT = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=10))
INTAKE = RetryPolicy(maximum_interval=timedelta(minutes=5))

# The longest of a platform attempt (HTTP_CALLS_PER_ATTEMPT requests) and an SMTP delivery,
# with room for the database writes around them.
EXTERNAL_ATTEMPT = max(HTTP_TIMEOUT * HTTP_CALLS_PER_ATTEMPT, SMTP_TIMEOUT * SMTP_STEPS) \
    + timedelta(seconds=30)
EXTERNAL_SCHEDULE = timedelta(days=7)
EXTERNAL_HEARTBEAT = timedelta(seconds=20)
LOCAL_ATTEMPT = timedelta(seconds=30)  # the service's own database
LOCAL_SCHEDULE = timedelta(days=2)
ALERT_SCHEDULE = timedelta(hours=6)
INTAKE_ATTEMPT = timedelta(minutes=10)  # one poll: at most SYNC_BUDGET of pages, then returns
# Beats after each dossier and every HEARTBEAT_EVERY while a request lasts: a killed worker's
# poll is taken up by another within this (it was a minute: the chaos run's slowest dossiers).
INTAKE_HEARTBEAT = timedelta(seconds=35)
STORE_HEARTBEAT = timedelta(seconds=10)


def external(summary: str) -> dict[str, Any]:
    return {"start_to_close_timeout": EXTERNAL_ATTEMPT,
            "schedule_to_close_timeout": EXTERNAL_SCHEDULE, "retry_policy": EXTERNAL,
            "heartbeat_timeout": EXTERNAL_HEARTBEAT, "summary": summary}


def local(summary: str) -> dict[str, Any]:
    return {"start_to_close_timeout": LOCAL_ATTEMPT, "schedule_to_close_timeout": LOCAL_SCHEDULE,
            "retry_policy": LOCAL, "summary": summary}


def store(summary: str) -> dict[str, Any]:
    """A store activity scheduled rather than local (a stage's reset point): as ``local``, and
    beaten for while it runs."""
    return {**local(summary), "heartbeat_timeout": STORE_HEARTBEAT}


def alert(summary: str) -> dict[str, Any]:
    """An email to the admins about a blocked step (an SMTP delivery)."""
    return {"start_to_close_timeout": EXTERNAL_ATTEMPT,
            "schedule_to_close_timeout": ALERT_SCHEDULE, "retry_policy": ALERT,
            "heartbeat_timeout": EXTERNAL_HEARTBEAT, "summary": summary}


def intake(summary: str) -> dict[str, Any]:
    return {"start_to_close_timeout": INTAKE_ATTEMPT, "heartbeat_timeout": INTAKE_HEARTBEAT,
            "retry_policy": INTAKE, "summary": summary}


# Every option set, by name: what the nesting test walks.
ALL = {"external": external, "local": local, "store": store, "alert": alert, "intake": intake}
