"""Payloads of the platform activities."""

from __future__ import annotations

from pydantic import BaseModel

from core.domain.procedure import Outcome


class PlatformMessage(BaseModel):
    number: int
    body: str
    correction: bool = False  # a completion request: the platform flags "en attente de correction"


class PlatformDecision(BaseModel):
    number: int
    outcome: Outcome
    motivation: str


class PlatformAnnotations(BaseModel):
    number: int
    opinions: str
    stage: str
