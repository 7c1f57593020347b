"""The time one call to another service may take, the bottom of the timeouts that nest.

HTTP request (``HTTP_TIMEOUT``, connect to last byte) < activity attempt
(``start_to_close_timeout``, ``workflows/options.py``) < activity schedule (``schedule_to_close``,
days): an attempt never times out while one of its requests is still in flight, so a retry
never races a mutation the platform may still apply. ``tests/workflows/test_timeouts.py``
checks the nesting for every option set the workflows use.
"""

from __future__ import annotations

from datetime import timedelta

# The longest a whole request to the platform may take (``PTCE_PLATFORM__TIMEOUT_SECONDS``,
# at most this): enforced around the request, not per read as httpx's own timeout is.
HTTP_TIMEOUT = timedelta(seconds=30)
# The most platform requests one activity attempt makes: ``platform_decide`` reads the dossier,
# withdraws a pending correction request, passes it en instruction, decides, and on a refusal
# reads the dossier or its annotations again.
HTTP_CALLS_PER_ATTEMPT = 5
# One SMTP step (``PTCE_SMTP__TIMEOUT_SECONDS``, at most this): aiosmtplib bounds each command.
SMTP_TIMEOUT = timedelta(seconds=15)
# aiosmtplib applies its timeout to each step: connect, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA.
SMTP_STEPS = 8
