"""The one error base the HTTP services raise, and the handlers that render it.

Every expected failure is an `ApiError` subclass carrying its HTTP status and a stable
machine-readable `code`; one handler renders them all as `{"detail": ..., "code": ...}`.
A 422 is the exception: its `detail` is FastAPI's list of problems, whoever found them.
"""

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from http_kit.openapi import document_errors

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

    def body(self) -> dict[str, Any]:
        """The JSON body of the response."""
        return {"detail": self.detail, "code": self.code}


class InvalidInput(ApiError):
    """Input the schema accepts but a rule of the service refuses (a message to someone
    outside the chat). Rendered like a validation error, so every 422 has one shape: the
    problem, its location `loc` and `type` = `code`, in the `detail` list."""

    status_code = 422
    code = "invalid_request"
    detail = "Invalid request."

    def __init__(self, detail: str | None = None, *, loc: Sequence[str | int] = ("body",)) -> None:
        super().__init__(detail)
        self.loc = list(loc)

    def body(self) -> dict[str, Any]:
        problem = {"type": self.code, "loc": self.loc, "msg": self.detail}
        return {"detail": [problem], "code": self.code}


class NotAuthenticated(ApiError):
    """No credentials, or credentials that do not prove who the caller is."""

    status_code = 401
    code = "not_authenticated"
    detail = "Not authenticated."

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        # RFC 6750 §3: a 401 for a bearer-protected resource names the scheme.
        super().__init__(detail, code=code, headers={"WWW-Authenticate": "Bearer"})


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


class ContentTooLarge(ApiError):
    status_code = 413
    code = "content_too_large"
    detail = "The request body is too large."


class HeadersTooLarge(ApiError):
    status_code = 431
    code = "request_header_fields_too_large"
    detail = "The request headers are too large."


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
    `{"detail", "code"}`; validation errors keep FastAPI's 422 body plus a `code`. The
    app's OpenAPI document describes the same shapes (see `http_kit.openapi`)."""
    app.add_exception_handler(ApiError, _render_api_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _render_http_exception)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _render_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _render_unexpected)
    document_errors(app)


def render_error(error: ApiError) -> Response:
    """The response for `error`, for code that answers without raising (middleware)."""
    return _json(error.body(), error.status_code, error.headers)


async def _render_api_error(request: Request, exc: ApiError) -> Response:
    return render_error(exc)


async def _render_http_exception(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code == 400 and exc.__context__ is not None:
        # A 400 raised while handling another error is the framework failing to read the
        # body: JSON that is not UTF-8 or nests deeper than the parser goes, a broken
        # multipart form. Other malformed JSON is already FastAPI's 422 `json_invalid`, so
        # these become 422s of the same shape.
        problem = {"type": "body_unreadable", "loc": ["body"], "msg": str(exc.detail)}
        return _json({"detail": [problem], "code": "validation_error"}, 422)
    body = {"detail": exc.detail, "code": code_for_status(exc.status_code)}
    return _json(body, exc.status_code, exc.headers)


async def _render_validation_error(request: Request, exc: RequestValidationError) -> Response:
    # FastAPI's list-shaped `detail` stays as it is, so existing clients keep working.
    return _json({"detail": jsonable_encoder(exc.errors()), "code": "validation_error"}, 422)


def _json(body: object, status_code: int, headers: Mapping[str, str] | None = None) -> Response:
    # ASCII escapes: an echoed `input` may hold lone surrogates (from `\udc80` in JSON),
    # which cannot be encoded as UTF-8 and would turn a 4xx into a 500.
    content = json.dumps(body, ensure_ascii=True, separators=(",", ":"))
    return Response(content, status_code, headers, media_type="application/json")


async def _render_unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    return _json({"detail": "Internal server error.", "code": "internal_error"}, 500)
