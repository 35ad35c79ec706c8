"""The one error base both HTTP services raise, and the handlers that render it.

Every expected failure is an `ApiError` subclass carrying its HTTP status and a stable
machine-readable `code`; one handler renders them all as `{"detail": ..., "code": ...}`.
"""

import json
from collections.abc import Mapping
from http import HTTPStatus

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger(__name__)


class ApiError(Exception):
    """Base of every expected failure. Subclasses set `status_code`, `code` and `detail`."""

    status_code: int = 400
    code: str = "bad_request"
    detail: str = "Bad request."

    def __init__(
        self,
        detail: str | None = None,
        *,
        status_code: int | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.detail = detail if detail is not None else type(self).detail
        self.status_code = status_code if status_code is not None else type(self).status_code
        self.code = code if code is not None else type(self).code
        self.headers = dict(headers or {})
        super().__init__(self.detail)


class NotAuthenticated(ApiError):
    """No credentials, or credentials that do not prove who the caller is."""

    status_code = 401
    code = "not_authenticated"
    detail = "Not authenticated."

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        # RFC 6750 §3: a 401 for a bearer-protected resource names the scheme.
        super().__init__(detail, code=code, headers={"WWW-Authenticate": "Bearer"})


class InvalidToken(NotAuthenticated):
    """A bearer token that is malformed, expired, forged or meant for someone else."""

    code = "invalid_token"
    detail = "Invalid or expired token."


class Forbidden(ApiError):
    status_code = 403
    code = "forbidden"
    detail = "You are not allowed to do this."


class NotFound(ApiError):
    status_code = 404
    code = "not_found"
    detail = "Not found."


class Conflict(ApiError):
    status_code = 409
    code = "conflict"
    detail = "Conflict."


class RateLimited(ApiError):
    status_code = 429
    code = "rate_limited"
    detail = "Too many requests; try again later."

    def __init__(self, retry_after_seconds: int, detail: str | None = None) -> None:
        self.retry_after_seconds = max(1, retry_after_seconds)
        super().__init__(detail, headers={"Retry-After": str(self.retry_after_seconds)})


class ServiceUnavailable(ApiError):
    status_code = 503
    code = "service_unavailable"
    detail = "A dependency is unavailable; try again later."


def code_for_status(status_code: int) -> str:
    """`404` -> `not_found`: a code for errors raised by the framework rather than by us."""
    try:
        return HTTPStatus(status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def install_error_handlers(app: FastAPI) -> None:
    """Renders `ApiError`, framework `HTTPException`s and unexpected errors as
    `{"detail", "code"}`; validation errors keep FastAPI's 422 body plus a `code`."""
    app.add_exception_handler(ApiError, _render_api_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _render_http_exception)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _render_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _render_unexpected)


async def _render_api_error(request: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse(
        {"detail": exc.detail, "code": exc.code}, status_code=exc.status_code, headers=exc.headers
    )


async def _render_http_exception(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return JSONResponse(
        {"detail": exc.detail, "code": code_for_status(exc.status_code)},
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def _render_validation_error(request: Request, exc: RequestValidationError) -> Response:
    # FastAPI's list-shaped `detail` stays as it is, so existing clients keep working.
    body = {"detail": jsonable_encoder(exc.errors()), "code": "validation_error"}
    # ASCII escapes: the echoed `input` may hold lone surrogates (from `\udc80` in JSON),
    # which cannot be encoded as UTF-8 and would turn a 422 into a 500.
    content = json.dumps(body, ensure_ascii=True, separators=(",", ":"))
    return Response(content, status_code=422, media_type="application/json")


async def _render_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    return JSONResponse(
        {"detail": "Internal server error.", "code": "internal_error"}, status_code=500
    )
