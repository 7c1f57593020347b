"""Workflow ids and type names from business keys: the API, the CLI and the UI find a case
without a lookup table, and a second start for the same dossier is refused, not doubled."""

from __future__ import annotations

DOSSIER_WORKFLOW = "DossierWorkflow"
CONSULTATION_WORKFLOW = "CraConsultationWorkflow"
SYNC_WORKFLOW = "DemarcheSyncWorkflow"
DOSSIER_CHANGED_SIGNAL = "dossier_changed"


def dossier_workflow_id(number: int) -> str:
    return f"dossier-{number}"


def consultation_workflow_id(number: int, region: str, round_: int = 1) -> str:
    return f"dossier-{number}-cra-{region}-r{round_}"


def sync_workflow_id(demarche: int) -> str:
    return f"sync-demarche-{demarche}"
