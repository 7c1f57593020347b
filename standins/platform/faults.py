"""Injected failures for chaos tests, answered the way the platform's stack answers them.

429 is the platform's own ``Rack::Attack.throttled_responder`` (config/initializers/rack_attack.rb
@ e1338d7, #L53-L70): plain text, ``RateLimit-Remaining: 0`` and ``RateLimit-Reset`` (an epoch)
only; no ``Retry-After`` (``throttled_response_retry_after_header`` only affects the default
responder it replaces). 500 is ``GraphqlController#handle_error_in_production``.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid

from fastapi.responses import JSONResponse, PlainTextResponse, Response

from standins.platform.execution import error_body
from standins.platform.records import Fault

THROTTLED_BODY = (
    "Calme toi, cowboy ! T'enchaines un peu trop les requêtes. Respire un peu réessaie dans un"
    " petit moment.\n"
    "Calm down, cowboy! You're making too many requests. Take a breather and try again soon.\n"
)


def throttled(reset: int) -> Response:
    """The throttled answer, the window resetting at ``reset`` (an epoch): plain text."""
    headers = {"RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)}
    return PlainTextResponse(THROTTLED_BODY, status_code=429, headers=headers)


async def answer_fault(fault: Fault) -> Response | None:
    """Wait the fault's delay, then the failing response (None: carry on normally)."""
    if fault.delay_ms > 0:
        await asyncio.sleep(fault.delay_ms / 1000)
    if fault.status == 429:
        return throttled(math.ceil(time.time() + fault.retry_after))
    if fault.status == 500:
        body = error_body("Internal Server Error", "internal_server_error", exception_id=str(uuid.uuid4()))
        return JSONResponse(body, status_code=500)
    return None
