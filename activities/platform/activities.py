"""Platform activities. Every mutation reads the state first and treats "already there" as
success, because the platform gives no idempotency (``clientMutationId`` is only echoed).

What reaches Temporal (``_to_temporal``): the token, our configuration, outages and the rate
limit are retried (with an alert to the admins, ``activities/alerts.py``); a dossier the platform
no longer shows is ``DossierNotFound`` (the workflow waits for its restoration or withdraws it);
only a refusal retrying cannot cure is non-retryable, with a message an admin can act on.
"""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.alerts import AdminAlerts
from activities.platform.client import (
    DsClient,
    PlatformAuth,
    PlatformConfiguration,
    PlatformError,
    PlatformNotFound,
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
# The annotation's descriptor decides the value's key (dossier_modifier_annotations.rb#L68-L75).
_ANNOTATION_KEYS = {"TextChampDescriptor": "text", "TextareaChampDescriptor": "textarea"}
# ``can_terminer?`` false for a required private annotation left empty reads like this, for a
# dossier that *is* en instruction (app/graphql/mutations/dossier_accepter.rb#L36-L37).
_ALREADY_EN_INSTRUCTION = "Le dossier est déjà en instruction"
NOT_FOUND = "DossierNotFound"


def _to_temporal(exc: PlatformError) -> ApplicationError:
    if isinstance(exc, PlatformRateLimited):
        return ApplicationError(str(exc), type="PlatformRateLimited",
                                next_retry_delay=timedelta(seconds=exc.retry_after))
    if isinstance(exc, PlatformAuth):
        return ApplicationError(str(exc), type="PlatformAuth")
    if isinstance(exc, PlatformConfiguration):
        return ApplicationError(str(exc), type="PlatformConfiguration")
    if isinstance(exc, PlatformNotFound):
        return ApplicationError("the platform does not show the dossier (deleted by its "
                                "applicant, or purged)", type=NOT_FOUND, non_retryable=True)
    if isinstance(exc, PlatformRejected):
        return ApplicationError(str(exc), type="PlatformRejected", non_retryable=True)
    return ApplicationError(str(exc), type="PlatformUnavailable")


def stable_id(typed_id: str) -> str:
    """The platform reads only the stable id of ``Champ-<stable_id>`` (``Champ.decode_typed_id``)."""
    try:
        text = base64.b64decode(typed_id + "=" * (-len(typed_id) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return typed_id
    return text.split("-", 1)[1] if "-" in text else typed_id


class PlatformActivities:
    def __init__(self, client: DsClient, settings: PlatformSettings, mapping: DemarcheMapping,
                 alerts: AdminAlerts | None = None):
        self._client = client
        self._settings = settings
        self._mapping = mapping
        self._alerts = alerts

    async def _call(self, coro: Any) -> Any:
        try:
            return await coro
        except PlatformError as exc:
            if self._alerts is not None:
                await self._alerts.platform(exc, activity.info().attempt, activity.info().activity_type)
            raise _to_temporal(exc) from exc

    async def _raw(self, number: int, operation: str = "get_dossier") -> dict[str, Any]:
        data = await self._call(self._client.execute(operation, {"dossierNumber": number}))
        raw: dict[str, Any] = data["dossier"]
        return raw

    async def _mutate(self, raw: dict[str, Any], operation: str, field: str,
                      payload: dict[str, Any]) -> None:
        """A mutation's ``not_found`` names its payload: the dossier (deleted meanwhile) or an
        instructeur id the platform does not know; a fresh read tells which."""
        try:
            await self._call(self._client.mutate(operation, field, payload))
        except ApplicationError as err:
            if err.type != NOT_FOUND:
                raise
            await self._raw(int(raw["number"]))  # DossierNotFound if the dossier is gone
            raise await self._unknown_instructeur() from err

    async def _unknown_instructeur(self) -> ApplicationError:
        exc = PlatformConfiguration(
            "the platform does not know the instructeur PTCE_PLATFORM__INSTRUCTEUR_ID", "instructeur-access")
        if self._alerts is not None:
            await self._alerts.platform(exc, activity.info().attempt, activity.info().activity_type)
        return _to_temporal(exc)

    def _input(self, raw: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"dossierId": raw["id"], "instructeurId": self._settings.instructeur_id, **extra}

    @activity.defn(name="platform_fetch_dossier")
    async def fetch_dossier(self, number: int) -> Dossier:
        raw = await self._raw(number)
        return map_dossier(raw, self._mapping)

    @activity.defn(name="platform_passer_en_instruction")
    async def passer_en_instruction(self, number: int) -> PlatformState:
        """The platform's own email tells the applicant: it is the only one for this news."""
        raw = await self._raw(number)
        if raw["state"] != PlatformState.EN_CONSTRUCTION:
            return PlatformState(raw["state"])  # already past it: nothing to do
        # Completed by an admin's correction, the request sent to the applicant is still open.
        await self._cancel_pending_corrections(raw)
        await self._mutate(raw, "passer_en_instruction", "dossierPasserEnInstruction",
                           self._input(raw))
        return PlatformState.EN_INSTRUCTION

    @activity.defn(name="platform_send_message")
    async def send_message(self, message: PlatformMessage) -> bool:
        """Returns False when the same message was already posted (a retry after success).

        A correction request is "already posted" only while a *pending* one has the same body:
        the same text after the applicant resolved the last one is a new request. A pending
        request with another text is withdrawn first (the platform allows one at a time).
        """
        raw = await self._raw(message.number)
        messages = raw.get("messages") or []
        if message.correction:
            pending = [m for m in messages
                       if m.get("correction") and m["correction"].get("dateResolution") is None]
            if any(m.get("body") == message.body for m in pending):
                return False
            await self._cancel_pending_corrections(raw)
        elif any(m.get("body") == message.body for m in messages):
            return False
        extra: dict[str, Any] = {"body": message.body}
        if message.correction:
            extra["correction"] = "incomplete"
        await self._mutate(raw, "envoyer_message", "dossierEnvoyerMessage",
                           self._input(raw, **extra))
        return True

    @activity.defn(name="platform_decide")
    async def decide(self, decision: PlatformDecision) -> PlatformState:
        """The service's own email tells the applicant the decision: the platform's is disabled,
        and so is its "en instruction" email when the passage is only the way to the decision."""
        operation, field, target = _DECISIONS[decision.outcome]
        raw = await self._raw(decision.number)
        state = PlatformState(raw["state"])
        if state is target:
            return state
        if state is PlatformState.EN_CONSTRUCTION:
            await self._cancel_pending_corrections(raw)
            await self._mutate(raw, "passer_en_instruction", "dossierPasserEnInstruction",
                               self._input(raw, disableNotification=True))
        # Already decided otherwise: the platform refuses ("Le dossier est déjà accepté"), and
        # its own message is what admins see on the blocked step.
        extra: dict[str, Any] = {"disableNotification": True}
        if decision.motivation:
            extra["motivation"] = decision.motivation
        try:
            await self._mutate(raw, operation, field, self._input(raw, **extra))
        except ApplicationError as err:
            if err.message != _ALREADY_EN_INSTRUCTION:
                raise
            missing = await self._required_annotations_missing(decision.number)
            if not missing:
                raise
            raise ApplicationError(
                f"annotations privées obligatoires non remplies : {', '.join(missing)} (à "
                "remplir sur la plateforme, puis reprendre le dossier)",
                type="PlatformRejected", non_retryable=True) from err
        return target

    async def _required_annotations_missing(self, number: int) -> list[str]:
        raw = await self._raw(number, "get_dossier_annotations")
        filled = {stable_id(a["id"]) for a in raw.get("annotations") or [] if a.get("stringValue")}
        return [d["label"] for d in raw["demarche"]["revision"]["annotationDescriptors"]
                if d.get("required") and stable_id(d["id"]) not in filled]

    async def _cancel_pending_corrections(self, raw: dict[str, Any]) -> None:
        """A dossier awaiting correction cannot be instructed: withdraw the request first."""
        for message in raw.get("messages") or []:
            correction = message.get("correction")
            if correction and correction.get("dateResolution") is None:
                await self._mutate(raw, "annuler_demande_correction", "dossierAnnulerDemandeCorrection",
                                   {"messageId": message["id"],
                                    "instructeurId": self._settings.instructeur_id})

    @activity.defn(name="platform_annotate")
    async def annotate(self, annotations: PlatformAnnotations) -> None:
        """Writes only the annotations whose text differs: a rewrite with the same text would
        change nothing a reader sees, yet move ``dateDerniereModification`` and come back to
        the sync as an echo. Each value goes under its annotation's own type (text, textarea)."""
        raw = await self._raw(annotations.number, "get_dossier_annotations")
        descriptors = {stable_id(d["id"]): d
                       for d in raw["demarche"]["revision"]["annotationDescriptors"]}
        current = {stable_id(a["id"]): a.get("stringValue") for a in raw.get("annotations") or []}
        wanted = {("ANNOTATION_OPINIONS_ID", self._settings.annotation_opinions_id): annotations.opinions,
                  ("ANNOTATION_STAGE_ID", self._settings.annotation_stage_id): annotations.stage}
        values = []
        for (setting, annotation_id), text in wanted.items():
            if current.get(stable_id(annotation_id)) == text:
                continue
            values.append({"id": annotation_id,
                           "value": {await self._value_key(descriptors, setting, annotation_id): text}})
        if values:
            await self._mutate(raw, "modifier_annotations", "dossierModifierAnnotations",
                               self._input(raw, annotations=values))

    async def _value_key(self, descriptors: dict[str, Any], setting: str, annotation_id: str) -> str:
        descriptor = descriptors.get(stable_id(annotation_id))
        key = _ANNOTATION_KEYS.get(descriptor["__typename"]) if descriptor else None
        if key is not None:
            return key
        problem = (f"is a {descriptor['__typename']}, not a text" if descriptor
                   else "is not a private annotation of the démarche")
        await self._call(self._fail(PlatformConfiguration(
            f"PTCE_PLATFORM__{setting} ({annotation_id}) {problem}", "annotation")))
        raise AssertionError("unreachable")

    @staticmethod
    async def _fail(exc: PlatformError) -> None:
        raise exc
