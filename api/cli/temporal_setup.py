"""Registers the custom search attributes on a cluster (dev server, test server, production)."""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.temporal import connect
from core.settings import TemporalSettings
from workflows import search_attributes


async def _existing(client: Client, namespace: str) -> set[str]:
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace))
    except RPCError as exc:
        if exc.status == RPCStatusCode.UNIMPLEMENTED:  # the time-skipping test server
            return set()
        raise
    return set(listed.custom_attributes)


async def add_search_attributes(client: Client, namespace: str) -> list[str]:
    existing = await _existing(client, namespace)
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type.value)
        for key in search_attributes.ALL
        if key.name not in existing
    }
    if missing:
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=namespace, search_attributes=missing))
        except RPCError as exc:
            if exc.status != RPCStatusCode.ALREADY_EXISTS:
                raise
    return sorted(missing)


async def register_search_attributes(settings: TemporalSettings) -> list[str]:
    client = await connect(settings)
    return await add_search_attributes(client, settings.namespace)
