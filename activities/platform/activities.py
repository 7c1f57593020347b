"""Platform activities. Every mutation reads the state first and treats "already there" as
success, because the platform gives no idempotency (``clientMutationId`` is only echoed)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.platform.client import (
    DsClient,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
)
from activities.platform.models import PlatformAnnotations, PlatformDecision, PlatformMessage
from core.domain.dossier import Dossier, PlatformState
from core.domain.procedure import Outcome
from core.mapping import DemarcheMapping, map_dossier
from core.settings import PlatformSettings

_DECISIONS: dict[Outcome, tuple[str, str, PlatformState]] = {
    Outcome.LAUREAT: ("accepter", "dossierAccepter", PlatformState.ACCEPTE),
    Outcome.NON_RETENU: ("refuser", "dossierRefuser", PlatformState.REFUSE),
    Outcome.SANS_SUITE: ("classer_sans_suite", "dossierClasserSansSuite", PlatformState.SANS_SUITE),
}


def _to_temporal(exc: PlatformError) -> ApplicationError:
    if isinstance(exc, PlatformRateLimited):
        return ApplicationError(str(exc), type="PlatformRateLimited",
                                next_retry_delay=timedelta(seconds=exc.retry_after))
    if isinstance(exc, PlatformRejected):
        return ApplicationError(str(exc), type="PlatformRejected", non_retryable=True)
    return ApplicationError(str(exc), type="PlatformUnavailable")


class PlatformActivities:
    def __init__(self, client: DsClient, settings: PlatformSettings, mapping: DemarcheMapping):
        self._client = client
        self._settings = settings
        self._mapping = mapping

    async def _raw(self, number: int) -> dict[str, Any]:
        data = await self._client.execute("get_dossier", {"dossierNumber": number})
        raw: dict[str, Any] = data["dossier"]
        return raw

    async def _call(self, coro: Any) -> Any:
        try:
            return await coro
        except PlatformError as exc:
            raise _to_temporal(exc) from exc

    def _input(self, raw: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"dossierId": raw["id"], "instructeurId": self._settings.instructeur_id, **extra}

    @activity.defn(name="platform_fetch_dossier")
    async def fetch_dossier(self, number: int) -> Dossier:
        raw = await self._call(self._raw(number))
        return map_dossier(raw, self._mapping)

    @activity.defn(name="platform_passer_en_instruction")
    async def passer_en_instruction(self, number: int) -> PlatformState:
        raw = await self._call(self._raw(number))
        if raw["state"] != PlatformState.EN_CONSTRUCTION:
            return PlatformState(raw["state"])  # already past it: nothing to do
        # Completed by an admin's correction, the request sent to the applicant is still open.
        await self._cancel_pending_corrections(raw)
        await self._call(self._client.mutate(
            "passer_en_instruction", "dossierPasserEnInstruction", self._input(raw)))
        return PlatformState.EN_INSTRUCTION

    @activity.defn(name="platform_send_message")
    async def send_message(self, message: PlatformMessage) -> bool:
        """Returns False when the same message was already posted (a retry after success)."""
        raw = await self._call(self._raw(message.number))
        if any(m.get("body") == message.body for m in raw.get("messages") or []):
            return False
        extra: dict[str, Any] = {"body": message.body}
        if message.correction:
            extra["correction"] = "incomplete"
        await self._call(self._client.mutate(
            "envoyer_message", "dossierEnvoyerMessage", self._input(raw, **extra)))
        return True

    @activity.defn(name="platform_decide")
    async def decide(self, decision: PlatformDecision) -> PlatformState:
        operation, field, target = _DECISIONS[decision.outcome]
        raw = await self._call(self._raw(decision.number))
        state = PlatformState(raw["state"])
        if state is target:
            return state
        if state is PlatformState.EN_CONSTRUCTION:
            await self._cancel_pending_corrections(raw)
            await self._call(self._client.mutate(
                "passer_en_instruction", "dossierPasserEnInstruction", self._input(raw)))
        # Already decided otherwise: the platform refuses ("Le dossier est déjà accepté"), and
        # its own message is what admins see on the failed activity.
        extra = {"motivation": decision.motivation} if decision.motivation else {}
        await self._call(self._client.mutate(operation, field, self._input(raw, **extra)))
        return target

    async def _cancel_pending_corrections(self, raw: dict[str, Any]) -> None:
        """A dossier awaiting correction cannot be instructed: withdraw the request first."""
        for message in raw.get("messages") or []:
            correction = message.get("correction")
            if correction and correction.get("dateResolution") is None:
                await self._call(self._client.mutate(
                    "annuler_demande_correction", "dossierAnnulerDemandeCorrection",
                    {"messageId": message["id"], "instructeurId": self._settings.instructeur_id}))

    @activity.defn(name="platform_annotate")
    async def annotate(self, annotations: PlatformAnnotations) -> None:
        """Writes only the annotations whose text differs: a rewrite with the same text would
        change nothing a reader sees, yet move ``dateDerniereModification`` and come back to
        the sync as an echo."""
        raw = await self._call(self._raw(annotations.number))
        current = {a["id"]: a.get("stringValue") for a in raw.get("annotations") or []}
        wanted = {self._settings.annotation_opinions_id: annotations.opinions,
                  self._settings.annotation_stage_id: annotations.stage}
        values = [{"id": annotation_id, "value": {"text": text}}
                  for annotation_id, text in wanted.items() if current.get(annotation_id) != text]
        if not values:
            return
        await self._call(self._client.mutate(
            "modifier_annotations", "dossierModifierAnnotations",
            self._input(raw, annotations=values)))
