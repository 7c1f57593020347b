"""Encryption of Temporal payloads at rest: AES-256-GCM, keyed by key id for rotation.

Every payload the service hands to Temporal (workflow inputs, results, signals, updates,
activity arguments) carries names, emails and phone numbers; the history store only ever sees
ciphertext. Each encrypted payload names its key in its metadata, so the newest key encrypts
while every listed key still decrypts: rotation is "add the new key first, keep the old ones
until no open history needs them". Payloads that are not encrypted (histories written before
the codec, replay fixtures) pass through decode unchanged in dev and test only: in production
they become a payload no converter reads, so a signal or an Update sent by someone who reaches
the Temporal frontend without the key is dropped or rejected by the workflow (never applied,
and the workflow task does not fail over it).

Failure messages and stack traces go through the same codec (``encoded_attributes``): an SMTP
refusal or a validation error naming a person stays encrypted in the history.

Search attributes stay in clear (the server indexes them): they carry no personal data by
construction. Summaries, details and current details are user metadata that temporalio passes
through the codec too: the Temporal UI shows them once its codec endpoint is set
(``api.routes.codec``).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
from collections.abc import Iterable, Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

ENCODING = b"binary/encrypted"
# What a refused plaintext payload decodes to: an encoding no payload converter knows.
REFUSED = b"binary/plaintext-refused"
KEY_ID = "encryption-key-id"
_NONCE_BYTES = 12


class CodecKeyError(ValueError):
    """A key is malformed, or a payload names a key that is not configured."""


def parse_keys(keys: Iterable[SecretStr]) -> list[tuple[str, bytes]]:
    """``id:base64(32 bytes)`` entries, newest first."""
    parsed: list[tuple[str, bytes]] = []
    for entry in keys:
        key_id, sep, encoded = entry.get_secret_value().partition(":")
        if not sep or not key_id:
            raise CodecKeyError("a codec key must read 'id:base64key'")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise CodecKeyError(f"codec key {key_id!r} is not valid base64") from exc
        if len(raw) != 32:
            raise CodecKeyError(f"codec key {key_id!r} must be 32 bytes (AES-256)")
        parsed.append((key_id, raw))
    if not parsed:
        raise CodecKeyError("at least one codec key is required")
    if len({key_id for key_id, _ in parsed}) != len(parsed):
        raise CodecKeyError("codec key ids must be unique")
    return parsed


def new_key() -> str:
    """A fresh key, base64 (for ``PTCE_CODEC__KEYS``)."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


class AesGcmCodec(PayloadCodec):
    def __init__(self, keys: Sequence[tuple[str, bytes]], allow_plaintext: bool = False) -> None:
        if not keys:
            raise CodecKeyError("at least one codec key is required")
        self.allow_plaintext = allow_plaintext
        self.key_ids = frozenset(key_id for key_id, _ in keys)
        self._current_id, current = keys[0]
        self._current = AESGCM(current)
        self._by_id = {key_id: AESGCM(raw) for key_id, raw in keys}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decrypt(p) for p in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(_NONCE_BYTES)
        # The key id is authenticated too: a payload cannot be relabelled to another key.
        sealed = self._current.encrypt(nonce, payload.SerializeToString(), self._current_id.encode())
        return Payload(metadata={"encoding": ENCODING, KEY_ID: self._current_id.encode()},
                       data=nonce + sealed)

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload if self.allow_plaintext else Payload(metadata={"encoding": REFUSED})
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        cipher = self._by_id.get(key_id)
        if cipher is None:
            raise CodecKeyError(f"payload encrypted with unknown key id {key_id!r}: "
                                "add that key to PTCE_CODEC__KEYS")
        nonce, sealed = payload.data[:_NONCE_BYTES], payload.data[_NONCE_BYTES:]
        decoded = Payload()
        decoded.ParseFromString(cipher.decrypt(nonce, sealed, key_id.encode()))
        return decoded


def codec_from_keys(keys: Iterable[SecretStr], allow_plaintext: bool = False) -> AesGcmCodec:
    return AesGcmCodec(parse_keys(keys), allow_plaintext)


def data_converter(keys: Iterable[SecretStr], allow_plaintext: bool = False) -> DataConverter:
    """The one data converter of the service: pydantic payloads, encrypted, and failures whose
    message and stack trace are encrypted too."""
    return dataclasses.replace(
        pydantic_data_converter, payload_codec=codec_from_keys(keys, allow_plaintext),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes)
