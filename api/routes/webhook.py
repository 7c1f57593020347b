"""The platform's legacy webhook: unsigned, so only a hint to synchronise now.

Its body (procedure_id, dossier_id, state, updated_at) is never trusted: the sync workflow
re-reads the platform. The secret in the URL keeps strangers from triggering polls.
"""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter
from temporalio.service import RPCError

from api.deps import AppSettings, TemporalClient
from api.errors import NotFound, Unavailable
from core.ids import sync_workflow_id

router = APIRouter(tags=["platform"])
log = logging.getLogger("ptce.api.webhook")


@router.post("/webhooks/ds/{secret}", status_code=202)
async def legacy_webhook(secret: str, settings: AppSettings, client: TemporalClient
                         ) -> dict[str, str]:
    expected = settings.api.webhook_secret.get_secret_value()
    if not hmac.compare_digest(secret.encode(), expected.encode()):
        raise NotFound("Ressource introuvable.")
    handle = client.get_workflow_handle(sync_workflow_id(settings.platform.demarche_number))
    try:
        await handle.signal("sync_now")
    except RPCError as exc:
        log.warning("sync workflow not reachable: %s", exc.status)
        raise Unavailable("Synchronisation indisponible, réessayez plus tard.") from exc
    return {"status": "synchronisation demandée"}
