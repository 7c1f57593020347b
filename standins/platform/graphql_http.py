"""``POST /api/v2/graphql``: the rate limit first (Rack::Attack sits in front of the app),
then injected faults, then the token, then the GraphQL request itself.

Token check as in ``API::V2::BaseController``: ``Authorization: Bearer <token>`` (or
``Token token=<token>``). A missing *or unknown* token leaves the request anonymous, and an
anonymous request that is not a persisted query gets HTTP 403 "Without a token, only
persisted queries are allowed". (401 "Token expired" needs token expiry, not simulated.)
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from graphql import GraphQLSchema
from starlette.concurrency import run_in_threadpool

from standins.platform.context import Platform
from standins.platform.execution import error_body, execute_request
from standins.platform.faults import answer_fault, throttled
from standins.platform.mutations import mutation_root
from standins.platform.queries import query_root
from standins.platform.rate_limit import RateLimiter
from standins.platform.records import Fault

FORBIDDEN = "Without a token, only persisted queries are allowed"


def graphql_router(
    platform: Platform, schema: GraphQLSchema, token: str, limiter: RateLimiter | None = None
) -> APIRouter:
    router = APIRouter()

    @router.post("/api/v2/graphql")
    async def graphql_endpoint(request: Request) -> Response:
        if limiter is not None and (wait := limiter.hit(request.headers.get("authorization"))):
            return throttled(wait)
        fault = await run_in_threadpool(_take_fault, platform)
        if fault is not None and (failure := await answer_fault(fault)) is not None:
            return failure
        if not _authenticated(request.headers.get("authorization"), token):
            return JSONResponse(error_body(FORBIDDEN, "forbidden"), status_code=403)
        try:
            payload: Any = json.loads(await request.body())
        except ValueError as error:
            return JSONResponse(error_body(str(error), "bad_request"), status_code=400)
        if not isinstance(payload, dict):
            return JSONResponse(error_body("Expected a JSON object", "bad_request"), status_code=400)
        scoped = platform.for_request(str(request.base_url))
        root = {**query_root(scoped), **mutation_root(scoped)}
        result = await run_in_threadpool(execute_request, schema, payload, root, scoped)
        return JSONResponse(result.body, status_code=result.status)

    return router


def _take_fault(platform: Platform) -> Fault | None:
    if platform.store.fault().remaining <= 0:  # the common case: no write transaction
        return None
    with platform.store.write() as tx:
        return tx.take_fault()


def _authenticated(header: str | None, token: str) -> bool:
    scheme, _, credentials = (header or "").strip().partition(" ")
    if scheme.lower() not in ("bearer", "token") or not credentials:
        return False
    credentials = credentials.strip()
    if credentials.startswith("token="):
        credentials = credentials.removeprefix("token=").strip('"')
    return hmac.compare_digest(credentials.encode(), token.encode())
