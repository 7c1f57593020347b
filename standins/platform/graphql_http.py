"""``POST /api/v2/graphql``: the rate limit first (Rack::Attack sits in front of the app),
then injected faults, then the token, then the GraphQL request itself.

Token checks as in ``API::V2::BaseController`` (``access.py``): an anonymous request gets HTTP
403, a request from a network the token does not allow HTTP 403, an expired token HTTP 401.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from standins.platform import access
from standins.platform.context import Platform
from standins.platform.deps import LimiterDep, PlatformDep
from standins.platform.execution import error_body, execute_request
from standins.platform.faults import answer_fault, throttled
from standins.platform.mutations import mutation_root
from standins.platform.queries import query_root
from standins.platform.records import Fault
from standins.platform.schema import load_schema

FORBIDDEN = access.ANONYMOUS


router = APIRouter()


@router.post("/api/v2/graphql")
async def graphql_endpoint(platform: PlatformDep, limiter: LimiterDep, request: Request
                           ) -> Response:
    if limiter is not None and (reset := limiter.hit(request.headers.get("authorization"))):
        return throttled(reset)
    fault = await run_in_threadpool(_take_fault, platform)
    if fault is not None and (failure := await answer_fault(fault)) is not None:
        return failure
    remote = request.client.host if request.client else "127.0.0.1"
    verdict = await run_in_threadpool(access.check, platform.store,
                                      request.headers.get("authorization"), remote)
    if verdict.refusal is not None:
        return verdict.refusal
    assert verdict.token is not None
    try:
        payload: Any = json.loads(await request.body())
    except ValueError as error:
        return JSONResponse(error_body(str(error), "bad_request"), status_code=400)
    if not isinstance(payload, dict):
        return JSONResponse(error_body("Expected a JSON object", "bad_request"), status_code=400)
    scoped = platform.for_request(str(request.base_url), verdict.token.write_access)
    root = {**query_root(scoped), **mutation_root(scoped)}
    result = await run_in_threadpool(execute_request, load_schema(), payload, root, scoped)
    return JSONResponse(result.body, status_code=result.status)


def _take_fault(platform: Platform) -> Fault | None:
    if platform.store.fault().remaining <= 0:  # the common case: no write transaction
        return None
    with platform.store.write() as tx:
        return tx.take_fault()
