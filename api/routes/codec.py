"""Remote codec endpoint for the Temporal UI: decrypts payloads for signed-in BESSII agents.

Temporal's remote codec protocol: ``POST <endpoint>/decode`` (and ``/encode``) with
``{"payloads": [<proto-JSON payload>, …]}`` (metadata values and data in base64) and the
``X-Namespace`` header; the answer has the same shape. The UI calls it from the browser, with
the agent's session cookie when "Include cross-origin credentials" is set in its codec settings,
so CORS is opened for the UI's origin only and for these paths only (``api.routes.cors``).

No CSRF token here (the UI cannot send one): the endpoints change nothing, and another site can
neither pass the CORS preflight that a JSON body requires nor read the answer; a request whose
``Origin`` is neither the UI's nor ours is refused outright. ``/decode`` is for agents and
admins; ``/encode`` for admins only: an encoded payload is what the workers accept, so whoever
may encode may speak to the workflows in the service's name (through the Temporal frontend).
Decoding shows a plaintext payload as it is (the workers, in production, refuse it).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated

from cryptography.exceptions import InvalidTag
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from google.protobuf.message import Error as ProtobufError
from pydantic import BaseModel, Field, SecretStr
from temporalio.api.common.v1 import Payload, Payloads

from api.auth.deps import admin, agent, signed_in
from api.auth.state import auth_state
from api.deps import AppSettings
from api.errors import ApiError, Forbidden, NotFound
from api.hardening import allowed_origins
from core.codec import AesGcmCodec, CodecKeyError, codec_from_keys
from core.settings import Settings

PREFIX = "/codec"


@lru_cache(maxsize=4)
def _codec_for(keys: tuple[str, ...]) -> AesGcmCodec:
    return codec_from_keys((SecretStr(k) for k in keys), allow_plaintext=True)


def _codec(settings: Settings) -> AesGcmCodec:
    """Built once per key set, not per request."""
    return _codec_for(tuple(k.get_secret_value() for k in settings.codec.keys))


async def codec_reader(request: Request) -> None:
    """A signed-in agent or admin. In the embedded dev stack only (dev sign-in mode, demo data),
    the local Temporal UI's own origin is enough: the dev server cannot tell the UI to send
    cookies, and each browser would otherwise have to tick "Include cross-origin credentials"
    before the summaries of a dossier became readable."""
    state = auth_state(request)
    origin = _check_origin(request, state.settings)
    if state.settings.dev_sign_in and origin == state.settings.temporal.ui_url.rstrip("/"):
        return
    await agent(await signed_in(request))


async def codec_writer(request: Request) -> None:
    """Encoding: admins only, same origin rules (never the dev shortcut)."""
    _check_origin(request, auth_state(request).settings)
    await admin(await signed_in(request))


def _check_origin(request: Request, settings: Settings) -> str:
    origin = (request.headers.get("origin") or "").rstrip("/")
    known = {settings.temporal.ui_url.rstrip("/"),
             *(o.rstrip("/") for o in allowed_origins(settings))}
    if origin and origin not in known:
        raise Forbidden("origine refusée")
    return origin


CodecReader = Annotated[None, Depends(codec_reader)]
CodecWriter = Annotated[None, Depends(codec_writer)]
router = APIRouter(prefix=PREFIX, tags=["codec"])


class CodecPayload(BaseModel):
    """For the OpenAPI schema only: the body is read with protobuf's own JSON parser."""

    metadata: dict[str, str] = Field(default_factory=dict)  # values base64
    data: str = ""  # base64


class CodecBody(BaseModel):
    payloads: list[CodecPayload] = Field(default_factory=list)


# The request body as the protocol defines it: ``Payloads`` in proto3 JSON, where an empty
# list is omitted (``{}``), either field spelling is accepted (``external_payloads`` and
# ``externalPayloads``) and bytes are base64 in the standard or the URL-safe alphabet, padded
# or not. FastAPI's own validation would refuse the first with a 422.
_BODY_SCHEMA = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": CodecBody.model_json_schema()}}}}


class UndecodablePayload(ApiError):
    status_code = 400
    code = "undecodable_payload"


async def _payloads(request: Request) -> list[Payload]:
    """The Temporal SDKs' codec servers parse with protojson: so do we (json_format)."""
    message = Payloads()
    try:
        body = json.loads(await request.body())
        if not isinstance(body, dict):  # json_format would take a list for an empty message
            raise ValueError("not a JSON object")
        json_format.ParseDict(body, message)
    except (json_format.ParseError, ProtobufError, ValueError, TypeError, RecursionError) as exc:
        raise UndecodablePayload("charge utile mal formée") from exc
    return list(message.payloads)


def _answer(payloads: list[Payload]) -> JSONResponse:
    """Proto3 JSON with its default values written out (allowed by the mapping): always
    ``{"payloads": [...]}`` and every payload's ``metadata`` and ``data``, empty ones included,
    so that clients reading the fields without proto3 defaults (the UI's) need no special case."""
    return JSONResponse({"payloads": [
        json_format.MessageToDict(p, always_print_fields_with_no_presence=True)
        for p in payloads]})


def _check_namespace(settings: AppSettings, namespace: str | None) -> None:
    if namespace is not None and namespace != settings.temporal.namespace:
        raise NotFound("espace de noms Temporal inconnu")


@router.post("/decode", response_model=CodecBody, openapi_extra=_BODY_SCHEMA)
async def decode(request: Request, _: CodecReader, settings: AppSettings,
                 x_namespace: Annotated[str | None, Header()] = None) -> JSONResponse:
    _check_namespace(settings, x_namespace)
    payloads = await _payloads(request)
    try:
        decoded = await _codec(settings).decode(payloads)
    except (CodecKeyError, InvalidTag, ProtobufError) as exc:
        raise UndecodablePayload("charge utile indéchiffrable avec les clés configurées") from exc
    return _answer(decoded)


@router.post("/encode", response_model=CodecBody, openapi_extra=_BODY_SCHEMA)
async def encode(request: Request, _: CodecWriter, settings: AppSettings,
                 x_namespace: Annotated[str | None, Header()] = None) -> JSONResponse:
    _check_namespace(settings, x_namespace)
    return _answer(await _codec(settings).encode(await _payloads(request)))
