"""Custom search attributes: what BESSII filters and sorts on in the Temporal UI.

No personal data here: search attributes are stored and indexed in plaintext. Never name one
``Status``: the UI hides it behind the execution status.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

DOSSIER_NUMBER = SearchAttributeKey.for_int("DossierNumber")
DEMARCHE = SearchAttributeKey.for_int("Demarche")
STAGE = SearchAttributeKey.for_keyword("DossierStage")
REGIONS = SearchAttributeKey.for_keyword_list("Regions")
FRAGILE_TERRITORY = SearchAttributeKey.for_bool("FragileTerritory")
STAGE_DEADLINE = SearchAttributeKey.for_datetime("StageDeadline")
CRA_PENDING = SearchAttributeKey.for_keyword_list("CraPending")
DECISION = SearchAttributeKey.for_keyword("Decision")
# The step a dossier or consultation is parked on after a failure retrying cannot cure.
BLOCKED_STEP = SearchAttributeKey.for_keyword("BlockedStep")

ALL: tuple[SearchAttributeKey, ...] = (  # type: ignore[type-arg]
    DOSSIER_NUMBER, DEMARCHE, STAGE, REGIONS, FRAGILE_TERRITORY, STAGE_DEADLINE, CRA_PENDING,
    DECISION, BLOCKED_STEP,
)


def cli_flags() -> list[str]:
    """``--search-attribute NAME=Type`` flags for ``temporal server start-dev``."""
    kinds = {"INT": "Int", "KEYWORD": "Keyword", "KEYWORD_LIST": "KeywordList", "BOOL": "Bool",
             "DATETIME": "Datetime", "TEXT": "Text", "FLOAT": "Double"}
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={kinds[key.indexed_value_type.name]}"]
    return flags
