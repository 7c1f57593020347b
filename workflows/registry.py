"""Every workflow type the service runs: what a worker registers and a replayer replays."""

from __future__ import annotations

from workflows.consultation import CraConsultationWorkflow
from workflows.dossier import DossierWorkflow
from workflows.sync import DemarcheSyncWorkflow, PinnedDemarcheSyncWorkflow

WORKFLOWS: list[type] = [DossierWorkflow, CraConsultationWorkflow, DemarcheSyncWorkflow]

# A versioned worker's (Worker Deployments): dossiers and consultations take the worker's default
# behaviour, AUTO_UPGRADE (api/cli/worker.py); the intake is PINNED.
VERSIONED_WORKFLOWS: list[type] = [DossierWorkflow, CraConsultationWorkflow,
                                   PinnedDemarcheSyncWorkflow]
