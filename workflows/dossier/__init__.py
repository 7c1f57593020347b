"""The dossier workflow, one part per module, each building on the one before:

``state`` (what the dossier holds and shows) → ``synthesis`` (the snapshot BESSII's synthesis
reads, written with each record) → ``consultations`` (the CRA child workflows) →
``notification`` (the end) → ``bessii`` (BESSII's waits and Updates) → ``amendments`` (admin
Updates) → ``workflow`` (the procedure: ``run``, receipt, completeness).
"""

from workflows.dossier.workflow import DossierWorkflow

__all__ = ["DossierWorkflow"]
