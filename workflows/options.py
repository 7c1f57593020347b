"""Timeouts and retry policies of activities, in one place."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy

# Side effects on other organisations' services: retry transport failures for a long time with
# backoff (an outage must not fail a dossier); business refusals are non-retryable errors.
EXTERNAL = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=["PlatformRejected"],
)
LOCAL = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


def external(summary: str) -> dict[str, Any]:
    return {"start_to_close_timeout": timedelta(seconds=60), "retry_policy": EXTERNAL,
            "summary": summary}


def local(summary: str) -> dict[str, Any]:
    return {"start_to_close_timeout": timedelta(seconds=30), "retry_policy": LOCAL,
            "summary": summary}
