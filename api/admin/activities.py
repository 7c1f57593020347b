"""Retry a failing or paused activity of a case now: ``ResetActivity`` (attempts back to 1,
scheduled at once; a paused one is unpaused). The workflow's history is not changed."""

from __future__ import annotations

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import ResetActivityRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.admin.audit import temporal_identity
from api.errors import NotFound, Refused


async def pending_activity_ids(client: Client, workflow_id: str) -> dict[str, str]:
    """Activity id -> activity type, of the activities pending now."""
    described = await client.get_workflow_handle(workflow_id).describe()
    return {a.activity_id: a.activity_type.name
            for a in described.raw_description.pending_activities}


async def retry_activity(client: Client, workflow_id: str, activity_id: str | None,
                         identity: str) -> list[str]:
    """Retries the named pending activity, or all pending ones; returns their types."""
    try:
        pending = await pending_activity_ids(client, workflow_id)
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise NotFound(f"{workflow_id} est introuvable") from exc
        raise
    if activity_id is not None and activity_id not in pending:
        raise Refused(f"aucune activité {activity_id} en attente dans {workflow_id}")
    chosen = [activity_id] if activity_id is not None else list(pending)
    for one in chosen:
        await client.workflow_service.reset_activity(ResetActivityRequest(
            namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id),
            identity=temporal_identity(identity), id=one))
    return [pending[one] for one in chosen]
