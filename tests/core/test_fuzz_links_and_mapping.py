"""Fuzzing the two parsers that read outside input: link tokens and platform payloads."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from core.links import ExpiredLink, InvalidLink, LinkClaims, LinkSigner
from core.mapping import MappingError, load_mapping, map_dossier

SIGNER = LinkSigner([SecretStr("k2:new-secret"), SecretStr("k1:old-secret")])
NOW = datetime(2026, 11, 27, tzinfo=UTC)
token_chars = st.text(alphabet=string.ascii_letters + string.digits + "-_.=~!%", max_size=400)


@given(st.one_of(token_chars, st.text(max_size=300)))
@settings(max_examples=400)
def test_any_string_is_an_invalid_link_never_a_crash(token: str) -> None:
    with pytest.raises((InvalidLink, ExpiredLink)):
        SIGNER.verify(token, now=NOW)


claims = st.builds(
    LinkClaims,
    dossier=st.integers(min_value=1, max_value=10**9),
    region=st.sampled_from(["53", "76", "11", "94"]),
    member=st.text(min_size=1, max_size=80),
    round=st.integers(min_value=1, max_value=9),
    deadline=st.datetimes(min_value=datetime(2027, 1, 1), max_value=datetime(2099, 1, 1),
                          timezones=st.just(UTC)),
    exp=st.datetimes(min_value=datetime(2027, 1, 2), max_value=datetime(2099, 1, 1),
                     timezones=st.just(UTC)),
)


@given(claims, st.integers(min_value=0, max_value=200), st.sampled_from("AB_-x"))
@settings(max_examples=200)
def test_signed_claims_round_trip_and_any_altered_character_is_refused(
    c: LinkClaims, position: int, replacement: str
) -> None:
    token = SIGNER.sign(c)
    assert SIGNER.verify(token, now=NOW) == c
    i = position % len(token)
    altered = token[:i] + replacement + token[i + 1:]
    if altered == token:
        return
    try:
        verified = SIGNER.verify(altered, now=NOW)
    except (InvalidLink, ExpiredLink):
        return
    # Base64 padding bits can change without changing the decoded bytes: then the claims are
    # still exactly the signed ones, never different ones.
    assert verified == c


def test_old_key_still_verifies_after_rotation() -> None:
    old = LinkSigner([SecretStr("k1:old-secret")])
    c = LinkClaims(dossier=1, region="53", member="m", exp=NOW + timedelta(days=1))
    assert SIGNER.verify(old.sign(c), now=NOW) == c


MAPPING = load_mapping()
champ_values = st.one_of(st.none(), st.text(max_size=50), st.booleans(),
                         st.lists(st.text(max_size=20), max_size=3))


@st.composite
def platform_dossiers(draw: st.DrawFn) -> dict[str, Any]:
    champs = []
    for spec in draw(st.lists(st.sampled_from(MAPPING.champs), max_size=30)):
        champ: dict[str, Any] = {"champDescriptorId": spec.id, "__typename": spec.type,
                                 "stringValue": draw(st.one_of(st.none(), st.text(max_size=30)))}
        key = {"CheckboxChamp": "checked", "YesNoChamp": "selected",
               "MultipleDropDownListChamp": "values", "RegionChamp": "region",
               "AddressChamp": "address", "PieceJustificativeChamp": "files"}.get(spec.type, "value")
        if key == "region":
            champ[key] = draw(st.one_of(st.none(), st.fixed_dictionaries(
                {"name": st.text(max_size=20), "code": st.text(max_size=3)})))
        elif key == "address":
            champ[key] = draw(st.one_of(st.none(), st.fixed_dictionaries(
                {"label": st.text(max_size=40)})))
        elif key == "files":
            champ[key] = draw(st.lists(st.fixed_dictionaries({"filename": st.text(max_size=20)}),
                                       max_size=2))
        else:
            champ[key] = draw(champ_values)
        champs.append(champ)
    return {"id": "RG9zc2llci0x", "number": draw(st.integers(1, 10**6)),
            "state": draw(st.sampled_from(["en_construction", "en_instruction", "accepte"])),
            "dateDepot": "2026-11-27T10:00:00+01:00",
            "dateDerniereModification": "2026-11-27T10:00:00+01:00",
            "demarche": {"number": 1001}, "usager": {"email": "u@example.org"},
            "champs": champs}


@given(platform_dossiers())
@settings(max_examples=300)
def test_mapping_any_platform_payload_gives_a_dossier_or_a_validation_error(
    raw: dict[str, Any],
) -> None:
    """Wrong value types from the platform are refused clearly, never half-mapped."""
    try:
        dossier = map_dossier(raw, MAPPING)
    except (MappingError, ValidationError):
        return
    assert dossier.number == raw["number"]
    assert all(len(code) <= 3 for code in dossier.regions)
