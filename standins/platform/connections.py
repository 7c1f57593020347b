"""Cursor connections with the platform's keyset pagination (``CursorConnection``).

Rows are ordered by ``(column, id)``; a cursor is ``base64url("<ts ns UTC>;<id>")`` and
``after`` means strictly greater. The id is the dossier's number, except in ``deletedDossiers``
where it is the ``DeletedDossier`` row's own id (``DeletedDossiersConnection``). Pages hold at
most 100 nodes. ``hasNextPage`` is exact when paging forward; like the platform, any ``after``
sets ``hasPreviousPage``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from graphql import GraphQLError

from standins.platform.clock import cursor_timestamp, parse_cursor_timestamp, to_us
from standins.platform.ids import decode_cursor, encode_cursor
from standins.platform.records import Keyset, KeysetColumn

MAX_PAGE_SIZE = 100


class Row(Protocol):
    @property
    def cursor_id(self) -> int: ...


Fetch = Callable[[Keyset], Sequence[Any]]
View = Callable[[Any], dict[str, Any]]


def dossiers(fetch: Fetch, view: View, args: dict[str, Any]) -> dict[str, Any]:
    """``Demarche.dossiers``: by ``updated_at`` when ``updatedSince`` is given, else by dépôt."""
    updated_since: datetime | None = args.get("updatedSince")
    created_since: datetime | None = args.get("createdSince")
    if args.get("archived"):  # nothing is ever archived on the stand-in
        return _connection([], view, "depose_at")
    if updated_since is not None:
        return paginate(fetch, view, args, "updated_at", updated_since, args.get("state"))
    return paginate(fetch, view, args, "depose_at", created_since, args.get("state"))


def deleted_dossiers(fetch: Fetch, view: View, args: dict[str, Any]) -> dict[str, Any]:
    return paginate(fetch, view, args, "deleted_at", args.get("deletedSince"), None)


def pending_deleted_dossiers(fetch: Fetch, view: View, args: dict[str, Any]) -> dict[str, Any]:
    """By the applicant's deletion date (``PendingDeletedDossiersConnection#cursor_for``: the
    ``hidden_by_user_at`` of an en-construction dossier)."""
    return paginate(fetch, view, args, "hidden_by_user_at", args.get("deletedSince"), None)


def paginate(
    fetch: Fetch,
    view: View,
    args: dict[str, Any],
    column: KeysetColumn,
    since: datetime | None,
    state: str | None,
) -> dict[str, Any]:
    first, last = args.get("first"), args.get("last")
    after, before = args.get("after") or None, args.get("before") or None
    _check(first, last, after, before)
    limit = min(size for size in (first, last, MAX_PAGE_SIZE) if size is not None) + 1
    inverted = last is not None or before is not None
    rows = fetch(
        Keyset(
            column=column,
            limit=limit,
            since=None if since is None else to_us(since),
            state=state,
            after=_decode(after),
            before=_decode(before),
            descending=inverted,
        )
    )
    full = len(rows) == limit
    nodes = list(rows[: limit - 1])
    if inverted:
        nodes.reverse()
    connection = _connection(nodes, view, column)
    connection["pageInfo"].update(
        hasPreviousPage=after is not None or (full and inverted),
        hasNextPage=before is not None or (full and not inverted),
    )
    return connection


def _connection(nodes: list[Any], view: View, column: KeysetColumn) -> dict[str, Any]:
    edges = [{"cursor": _cursor(record, column), "node": view(record)} for record in nodes]
    return {
        "nodes": [edge["node"] for edge in edges],
        "edges": edges,
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _cursor(record: Row, column: KeysetColumn) -> str:
    instant: int = getattr(record, column)
    return encode_cursor(f"{cursor_timestamp(instant)};{record.cursor_id}")


def _decode(cursor: str | None) -> tuple[int, int] | None:
    if cursor is None:
        return None
    text = decode_cursor(cursor) or ""
    timestamp, _, number = text.partition(";")
    instant = parse_cursor_timestamp(timestamp)
    if instant is None or not number.isdigit():
        raise GraphQLError(f"Invalid cursor: {cursor}", extensions={"code": "bad_request"})
    return instant, int(number)


def _check(first: int | None, last: int | None, after: str | None, before: str | None) -> None:
    # Messages from the platform's Connections::CursorConnection#ensure_valid_params.
    problems = [
        (first is not None and last is not None, 'Arguments "first" and "last" are exclusive'),
        (before is not None and after is not None, 'Arguments "before" and "after" are exclusive'),
        (first is not None and first < 0, 'Argument "first" must be a non-negative integer'),
        (last is not None and last < 0, 'Argument "last" must be a non-negative integer'),
    ]
    for failed, message in problems:
        if failed:
            raise GraphQLError(message, extensions={"code": "bad_request"})
