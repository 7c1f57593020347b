"""Dependencies: one Temporal client built in the lifespan, read through ``Annotated``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from temporalio.client import Client

from core.settings import Settings, get_settings


def temporal_client(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


TemporalClient = Annotated[Client, Depends(temporal_client)]
AppSettings = Annotated[Settings, Depends(get_settings)]
