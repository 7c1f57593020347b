"""Production refuses the platform stand-in's values, naming the setting."""

from __future__ import annotations

import pytest

from core.settings import Settings
from tests.core.test_codec import NEW, PROD_PLATFORM

SECRETS = {"api": {"webhook_secret": "w"}, "links": {"keys": ["k1:s"]},
           "cra_pages": {"secret": "c"}, "agents": {"session_secret": "s"},
           "codec": {"keys": [NEW]}}


@pytest.mark.parametrize("name", ["graphql_url", "instructeur_id", "demarche_number",
                                  "annotation_opinions_id", "annotation_stage_id", "mapping_file"])
def test_a_standin_value_is_refused_in_prod_naming_its_setting(name: str) -> None:
    platform = {"token": "t", **PROD_PLATFORM}
    del platform[name]  # back to the stand-in's default
    with pytest.raises(ValueError, match=f"PTCE_PLATFORM__{name.upper()}"):
        Settings(environment="prod", platform=platform, **SECRETS)  # type: ignore[arg-type]


def test_the_standin_values_are_fine_in_dev_and_test() -> None:
    for environment in ("dev", "test"):
        assert Settings(environment=environment).platform.demarche_number == 1001  # type: ignore[arg-type]
