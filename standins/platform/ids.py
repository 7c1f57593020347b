"""Typed ids and opaque cursors, encoded the way the platform (graphql-ruby) encodes them.

A typed id is ``base64("<Type>-<key>")`` with the standard alphabet and padding
(``GraphQL::Schema::UniqueWithinType``). A connection cursor is
``base64url("<timestamp ns UTC>;<id>")`` without padding (graphql-ruby's cursor encoder).
"""

from __future__ import annotations

import base64
import binascii


def encode_id(type_name: str, key: str | int) -> str:
    return base64.b64encode(f"{type_name}-{key}".encode()).decode("ascii")


def decode_id(typed_id: str) -> tuple[str, str] | None:
    """Return ``(type, key)``, or None when ``typed_id`` is not a typed id at all."""
    text = _b64decode(typed_id)
    if text is None or "-" not in text:
        return None
    type_name, key = text.split("-", 1)
    return type_name, key


def decode_number(typed_id: str, type_name: str) -> int | None:
    """The integer key of ``typed_id`` if it names an object of ``type_name``."""
    decoded = decode_id(typed_id)
    if decoded is None or decoded[0] != type_name or not decoded[1].isdigit():
        return None
    return int(decoded[1])


def encode_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> str | None:
    return _b64decode(cursor)


def _b64decode(value: str) -> str | None:
    # Accept both alphabets and missing padding, like Ruby's lenient decoders.
    normalized = value.strip().replace("-", "+").replace("_", "/")
    normalized += "=" * (-len(normalized) % 4)
    try:
        return base64.b64decode(normalized, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
