"""The platform's real schema (the SDL our client is checked against), made executable.

Resolvers are not attached per field: every object is a dict keyed by field name (see
``views``), read by ``resolve_field``; interfaces pick their type from ``__typename``;
custom scalars get the platform's coercion (ISO 8601 dates in, ``BigInt`` out as text).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLInterfaceType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    StringValueNode,
    ValueNode,
    build_schema,
)

import activities.platform
from standins.platform.clock import parse_api_date, parse_api_datetime

SCHEMA_FILE = Path(activities.platform.__file__).parent / "schema" / "schema.graphql"


@cache
def load_schema(path: Path = SCHEMA_FILE) -> GraphQLSchema:
    schema = build_schema(path.read_text(encoding="utf-8"))
    for graphql_type in schema.type_map.values():
        if isinstance(graphql_type, GraphQLInterfaceType):
            graphql_type.resolve_type = _type_name
    _coerce_input(schema, "ISO8601DateTime", parse_api_datetime)
    _coerce_input(schema, "ISO8601Date", parse_api_date)
    _coerce_input(schema, "BigInt", int)
    big_int = schema.type_map["BigInt"]
    assert isinstance(big_int, GraphQLScalarType)
    # graphql-core 3.3 reads coerce_*; 3.2 reads serialize/parse_*: set both spellings.
    big_int.serialize = big_int.coerce_output_value = _as_text  # type: ignore[method-assign]
    return schema


def resolve_field(source: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
    """Read ``info.field_name`` from a dict (or attribute); call it with the args if callable."""
    if isinstance(source, Mapping):
        value = source.get(info.field_name)
    else:
        value = getattr(source, info.field_name, None)
    return value(**args) if callable(value) else value


def _type_name(value: Any, info: GraphQLResolveInfo[Any], abstract_type: Any) -> str | None:
    return value.get("__typename") if isinstance(value, Mapping) else None


def _as_text(value: Any) -> str:
    return str(value)


def _coerce_input(schema: GraphQLSchema, name: str, parse: Callable[[str], Any]) -> None:
    scalar = schema.type_map[name]
    assert isinstance(scalar, GraphQLScalarType)

    def parse_value(value: Any) -> Any:
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a string")
        return parse(value)

    def parse_literal(node: ValueNode, variables: Any = None) -> Any:
        if not isinstance(node, StringValueNode):
            raise TypeError(f"{name} must be a string")
        return parse(node.value)

    scalar.parse_value = scalar.coerce_input_value = parse_value  # type: ignore[method-assign]
    scalar.parse_literal = scalar.coerce_input_literal = parse_literal  # type: ignore[method-assign]
