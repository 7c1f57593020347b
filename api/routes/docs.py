"""The API's documentation in production: for signed-in agents only (it maps every endpoint).

In dev and test FastAPI serves ``/docs`` and ``/openapi.json`` itself, open.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from api.auth.deps import PageAgent

router = APIRouter(include_in_schema=False)


@router.get("/openapi.json")
async def openapi(request: Request, _: PageAgent) -> dict[str, Any]:
    schema: dict[str, Any] = request.app.openapi()
    return schema


@router.get("/docs")
async def swagger(request: Request, _: PageAgent) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title=request.app.title)
