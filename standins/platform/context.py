"""What every resolver needs: the store, the démarche, and who the instructeur is."""

from __future__ import annotations

from dataclasses import dataclass, replace

from standins.platform.demarche import DemarcheDefinition
from standins.platform.store import PlatformStore

DEFAULT_INSTRUCTEUR_EMAIL = "instructeur.bessii@ptce.localhost"


@dataclass(frozen=True, slots=True)
class Platform:
    store: PlatformStore
    demarche: DemarcheDefinition
    instructeur_id: str
    instructeur_email: str = DEFAULT_INSTRUCTEUR_EMAIL
    base_url: str = "http://localhost/"
    write_access: bool = True  # the request's token may write (``APIToken#write_access``)

    def for_request(self, base_url: str, write_access: bool = True) -> Platform:
        """The same platform, building absolute URLs (file links) for this request's host."""
        return replace(self, base_url=base_url, write_access=write_access)
