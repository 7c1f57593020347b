"""Every workflow type the service runs: what a worker registers and a replayer replays."""

from __future__ import annotations

from workflows.consultation import CraConsultationWorkflow
from workflows.dossier import DossierWorkflow
from workflows.sync import DemarcheSyncWorkflow

WORKFLOWS: list[type] = [DossierWorkflow, CraConsultationWorkflow, DemarcheSyncWorkflow]
