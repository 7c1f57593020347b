"""One error hierarchy for the API and one handler mapping it to HTTP (French for people)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


class ApiError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ApiError):
    status_code = 404
    code = "not_found"


class Forbidden(ApiError):
    status_code = 403
    code = "forbidden"


class Refused(ApiError):
    """A workflow validator refused the action: nothing changed."""

    status_code = 409
    code = "refused"


class Unavailable(ApiError):
    status_code = 503
    code = "unavailable"


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _handle(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code,
                            content={"error": exc.code, "message": exc.message})
