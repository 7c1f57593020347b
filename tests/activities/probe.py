"""A one-activity workflow for retry tests: the platform activity under Temporal's real retries.

Kept free of test imports so the workflow sandbox can load it.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

# A short backoff: any wait much longer than this comes from the platform's Retry-After.
PROBE_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=50), backoff_coefficient=1.0,
                          maximum_attempts=6)


@workflow.defn(name="PlatformProbe")
class PlatformProbe:
    @workflow.run
    async def run(self, number: int) -> str:
        result: str = await workflow.execute_activity(
            "platform_passer_en_instruction", number, result_type=str,
            start_to_close_timeout=timedelta(seconds=10), retry_policy=PROBE_RETRY)
        return result
