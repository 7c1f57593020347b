"""Authentication errors: JSON for ``/api/…``, a redirect or a French page for the pages."""

from __future__ import annotations

from api.errors import ApiError


class SignInRequired(ApiError):
    status_code = 401
    code = "not_signed_in"


class RoleRequired(ApiError):
    """Signed in, but the role does not allow this (or no longer: roles are read per request)."""

    status_code = 403
    code = "forbidden"


class CsrfRefused(ApiError):
    status_code = 403
    code = "csrf_refused"


class SignInFailed(ApiError):
    """The provider's answer was refused: state, nonce, signature, audience, unknown user…"""

    status_code = 403
    code = "sign_in_failed"


class NoRole(SignInFailed):
    """Signed in at the provider, but nobody gave this account a role."""
