"""The payload codec: AES-256-GCM, newest key encrypts, every listed key decrypts."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from core.codec import ENCODING, KEY_ID, REFUSED, CodecKeyError, codec_from_keys, new_key, parse_keys
from core.settings import DEV_CODEC_KEY, Settings
from tests.security.production import settings_from, strong_env

OLD, NEW = f"k1:{new_key()}", f"k2:{new_key()}"
PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"email":"maelle@example.org"}')


def _keys(*entries: str) -> list[SecretStr]:
    return [SecretStr(e) for e in entries]


async def test_encrypts_with_the_newest_key_and_round_trips() -> None:
    codec = codec_from_keys(_keys(NEW, OLD))
    [sealed] = await codec.encode([PLAIN])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID] == b"k2"
    assert b"maelle" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [PLAIN]


async def test_a_payload_sealed_before_rotation_still_opens_after() -> None:
    [sealed] = await codec_from_keys(_keys(OLD)).encode([PLAIN])
    rotated = codec_from_keys(_keys(NEW, OLD))
    assert await rotated.decode([sealed]) == [PLAIN]
    with pytest.raises(CodecKeyError, match="unknown key id 'k1'"):
        await codec_from_keys(_keys(NEW)).decode([sealed])


async def test_tampering_and_relabelling_are_detected() -> None:
    codec = codec_from_keys(_keys(NEW, OLD))
    [sealed] = await codec.encode([PLAIN])
    flipped = bytes([sealed.data[-1] ^ 1])  # always a change (a fixed byte may be the same)
    tampered = Payload(metadata=dict(sealed.metadata), data=sealed.data[:-1] + flipped)
    with pytest.raises(InvalidTag):
        await codec.decode([tampered])
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID: b"k1"}, data=sealed.data)
    with pytest.raises(InvalidTag):
        await codec.decode([relabelled])


async def test_unencrypted_payloads_pass_through_decode_only_where_allowed() -> None:
    assert await codec_from_keys(_keys(NEW), allow_plaintext=True).decode([PLAIN]) == [PLAIN]
    # Production (the default): a plaintext payload becomes one no converter reads.
    [refused] = await codec_from_keys(_keys(NEW)).decode([PLAIN])
    assert refused.metadata["encoding"] == REFUSED and not refused.data
    with pytest.raises(KeyError, match="Unknown payload encoding"):
        pydantic_data_converter.payload_converter.from_payloads([refused])


@pytest.mark.parametrize("entry", ["nokey", "k1:not-base64!", "k1:AAAA", ":" + new_key()],
                         ids=["no-separator", "not-base64", "short", "no-id"])
def test_malformed_keys_are_refused(entry: str) -> None:
    with pytest.raises(CodecKeyError):
        parse_keys(_keys(entry))


# The real démarche's ids (the stand-in's are refused in prod: tests/core/test_settings_platform.py).
PROD_PLATFORM = {"graphql_url": "https://demarche.numerique.gouv.fr/api/v2/graphql",
                 "instructeur_id": "SW5zdHJ1Y3RldXItNDI=", "demarche_number": 90210,
                 "mapping_file": "/etc/ptce/demarche.json",
                 "annotation_opinions_id": "Q2hhbXAtOTAx", "annotation_stage_id": "Q2hhbXAtOTAy"}


def test_the_development_key_is_refused_in_prod(monkeypatch: pytest.MonkeyPatch) -> None:
    env = strong_env()
    with pytest.raises(ValueError, match="PTCE_CODEC__KEYS: key 'dev' is the development key"):
        settings_from({**env, "PTCE_CODEC__KEYS": f'["dev:{DEV_CODEC_KEY}"]'}, monkeypatch)
    assert not settings_from({**env, "PTCE_CODEC__KEYS": f'["{NEW}"]'}, monkeypatch).lenient


def test_settings_refuse_a_malformed_key_at_start_up() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Settings(codec={"keys": ["k1:"]})
