"""Email addresses the service writes to: exactly one address each, checked by email-validator.

Applicant text reaches the recipients (the referent's email is a free-text field on the
platform): ``a@x, b@y`` would make our relay write to anyone, a CR/LF would break the message
headers. Syntax only (no DNS look-up): the result is the same every time, so the completeness
rule that workflows run with it stays deterministic.
"""

from __future__ import annotations

from temporalio import workflow

# Workflows run the completeness rule: the library is loaded once, outside their sandbox.
with workflow.unsafe.imports_passed_through():
    import email_validator
    from email_validator import EmailNotValidError, validate_email

# The directory of the embedded stack writes to ``*.localhost`` (RFC 6761): the library refuses
# special-use names by default and documents this list as the one to adjust.
if "localhost" in email_validator.SPECIAL_USE_DOMAIN_NAMES:
    email_validator.SPECIAL_USE_DOMAIN_NAMES.remove("localhost")


def single_address(value: str | None) -> str | None:
    """The normalised address when ``value`` is one valid address, else None."""
    if not value or any(c in value for c in "\r\n,;<>\"") or value != value.strip():
        return None
    try:
        # validate_email imports its package's defaults at each call: inside a workflow, that
        # import must reach the loaded module, not a fresh copy in the sandbox.
        with workflow.unsafe.imports_passed_through():
            checked = validate_email(value, check_deliverability=False, allow_smtputf8=True,
                                     allow_quoted_local=False, allow_domain_literal=False)
    except EmailNotValidError:
        return None
    return str(checked.normalized)


def valid_recipients(values: list[str]) -> list[str]:
    """The addresses that are one valid address each, in order, without duplicates."""
    kept = [a for a in (single_address(v) for v in values) if a is not None]
    return list(dict.fromkeys(kept))
