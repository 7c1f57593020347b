"""Alerts to the service's admins about the platform: at most one email per cause and day.

Errors retrying cures (an outage, the rate limit) or that a person must fix while every dossier
keeps retrying (an expired token, a forbidden network, an instructeur outside a groupe) never
park a dossier; the stuck finder shows them, and this email tells the admins. The idempotency key
of the email (``platform-alert:<cause>:<day>``) is the deduplication, across every worker and
dossier. Sending is best effort: an alert that cannot go now goes with a later failure. A claim
whose sender died before recording the email (a killed worker) is taken over by a later failure
once ``CLAIM_LEASE`` has passed: the email then goes, or goes again under the same Message-ID.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from activities.mail.activities import MailActivities
from activities.mail.models import EmailRequest
from activities.platform.client import (
    PlatformAuth,
    PlatformConfiguration,
    PlatformError,
    PlatformRateLimited,
    PlatformUnavailable,
)
from core.db.engine import Database
from core.db.repositories import AlertClaimRepository
from core.telemetry.logs import redact

log = logging.getLogger("ptce.alerts")
SUSTAINED = 5  # attempts before an outage or the rate limit is worth an email
# Longer than any send (the SMTP timeout is seconds): a claim this old without a recorded email
# belongs to a sender that died.
CLAIM_LEASE = timedelta(minutes=10)

_ADVICE = {
    "token-expired": ("jeton d’API expiré", "Créez un nouveau jeton sur la plateforme (profil de "
                      "l’administrateur, « Jetons d’API », mêmes réseaux autorisés) et déployez-le "
                      "(README, « Rotation du jeton »)."),
    "forbidden-network": ("réseau non autorisé pour le jeton", "Ajoutez l’adresse indiquée aux "
                          "réseaux autorisés du jeton, ou faites sortir le service par l’adresse "
                          "déjà autorisée."),
    "token-read-only": ("jeton en lecture seule", "Le jeton doit permettre l’écriture : créez un "
                        "jeton en lecture et écriture."),
    "token-scope": ("démarche hors de portée du jeton", "Le jeton doit donner accès à la démarche "
                    "configurée (PTCE_PLATFORM__DEMARCHE_NUMBER)."),
    "token": ("jeton d’API refusé", "Vérifiez le jeton configuré (PTCE_PLATFORM__TOKEN)."),
    "instructeur-access": ("instructeur sans accès au dossier", "Ajoutez l’instructeur du service "
                           "(PTCE_PLATFORM__INSTRUCTEUR_ID) à tous les groupes instructeurs."),
    "annotation": ("annotation privée introuvable ou d’un autre type", "Vérifiez les identifiants "
                   "PTCE_PLATFORM__ANNOTATION_… (ptce platform check)."),
    "configuration": ("configuration", "Lancez ptce platform check."),
    "siret-degraded": ("données SIRET incomplètes", "La plateforme attend les données d’API "
                       "Entreprise : rien à faire, la décision sera enregistrée à leur arrivée."),
    "unavailable": ("plateforme indisponible", "Panne ou lenteur de la plateforme."),
    "rate-limited": ("limite de débit atteinte", "Trop de requêtes pour le jeton : la plateforme "
                     "demande d’attendre."),
}


def worth_an_alert(exc: PlatformError, attempt: int) -> bool:
    if isinstance(exc, PlatformAuth | PlatformConfiguration):
        return True
    return isinstance(exc, PlatformUnavailable | PlatformRateLimited) and attempt >= SUSTAINED


class AdminAlerts:
    """``db``: where a worker claims an alert's key before sending it (None: no claim, the mail
    activity's own key deduplicates retries only)."""

    def __init__(self, mail: MailActivities, db: Database | None = None) -> None:
        self._mail = mail
        self._db = db

    async def platform(self, exc: PlatformError, attempt: int, where: str) -> None:
        if not worth_an_alert(exc, attempt):
            return
        now = datetime.now(UTC)
        title, advice = _ADVICE.get(exc.cause, _ADVICE["configuration"])
        request = EmailRequest(
            key=f"platform-alert:{exc.cause}:{now:%Y-%m-%d}", template="platform_alert", to=[],
            to_admins=True, context={"title": title, "advice": advice, "since": now,
                                     "message": redact(str(exc))[:500], "where": where})
        await self._send(request, exc.cause)

    async def quarantined(self, number: int, error: str, attempts: int) -> None:
        now = datetime.now(UTC)
        await self._send(EmailRequest(
            key=f"intake-quarantine:{number}:{now:%Y-%m-%d}", template="intake_quarantine", to=[],
            to_admins=True, dossier_number=number,
            context={"number": number, "error": error, "attempts": attempts}), "quarantine")

    async def _send(self, request: EmailRequest, cause: str) -> None:
        try:
            claimed = await self._claim(request.key)
        except Exception as error:  # the database is down too: a later failure tries again
            log.warning("alert not claimed", extra={"cause": cause, "error": type(error).__name__})
            return
        if not claimed:
            return  # another worker (or attempt) has it
        try:
            await self._mail.deliver(request)
        except Exception as error:  # an alert must never change what the activity reports
            log.warning("alert not sent", extra={"cause": cause, "error": type(error).__name__})
            await self._release(request.key)  # a later failure tries again

    async def _claim(self, key: str) -> bool:
        if self._db is None:
            return True
        now = datetime.now(UTC)
        try:
            async with self._db.unit_of_work() as session:
                AlertClaimRepository(session).claim(key, now)
        except IntegrityError:
            async with self._db.unit_of_work() as session:
                return await AlertClaimRepository(session).take_over(key, now, CLAIM_LEASE)
        return True

    async def _release(self, key: str) -> None:
        if self._db is None:
            return
        try:
            async with self._db.unit_of_work() as session:
                await AlertClaimRepository(session).release(key)
        except Exception as error:  # the database is down too: the claim stays for the day
            log.warning("alert claim kept", extra={"error": type(error).__name__})
