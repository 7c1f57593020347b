"""Page errors: the API's error hierarchy, rendered as French HTML pages (see ``pages``).

Each carries the audit outcome it stands for. Every refusal of a link shows the same page with
the same status, whatever the reason (tampered, unknown key, other purpose, revoked member,
member foreign to the consultation): the visitor learns nothing from it.
"""

from __future__ import annotations

from typing import Any

from api.errors import ApiError


class PageError(ApiError):
    status_code = 500
    template = "cra/unavailable.html"
    outcome = "error"

    def __init__(self, message: str, outcome: str | None = None, **context: Any) -> None:
        super().__init__(message)
        if outcome is not None:
            self.outcome = outcome
        self.context = context
        self.headers: dict[str, str] = {}


class LinkRefused(PageError):
    status_code = 404
    code = "invalid_link"
    template = "cra/invalid.html"
    outcome = "invalid_link"


class LinkExpired(PageError):
    status_code = 410
    code = "expired_link"
    template = "cra/expired.html"
    outcome = "expired"


class FormNotVerified(PageError):
    """CSRF token missing, foreign or forged, or a cross-site Origin/Referer."""

    status_code = 403
    code = "form_not_verified"
    template = "cra/not_verified.html"
    outcome = "csrf_refused"


class FormMalformed(PageError):
    """Not a form we could have rendered (too many fields, not URL-encoded): 400, nothing sent."""

    status_code = 400
    code = "form_malformed"
    template = "cra/malformed.html"
    outcome = "malformed_form"


class FormTooLarge(PageError):
    status_code = 413
    code = "form_too_large"
    template = "cra/too_large.html"
    outcome = "too_large"


class TooManyRequests(PageError):
    status_code = 429
    code = "too_many_requests"
    template = "cra/too_many.html"
    outcome = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__("rate limited", retry_after=retry_after)
        self.headers["Retry-After"] = str(retry_after)


class PagesUnavailable(PageError):
    status_code = 503
    code = "unavailable"
    template = "cra/unavailable.html"
    outcome = "unavailable"
