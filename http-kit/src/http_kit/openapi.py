"""The errors of `http_kit.errors` as OpenAPI documents show them.

Two shapes. A 422 is FastAPI's validation error (`detail` is the list of problems) plus a
`code`; FastAPI documents it on every endpoint with parameters or a body. Every other error
is `ErrorBody`: endpoints list theirs in `responses=` with `error_response`, and
`document_errors` adds what holds for all endpoints alike.
"""

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

_SCHEMAS = "#/components/schemas/"


class ErrorBody(BaseModel):
    """Every error but a 422."""

    detail: str = Field(description="What went wrong, for people.")
    code: str = Field(description="What went wrong, for programs: stable, snake_case.")


def error_response(code: str, description: str) -> dict[str, Any]:
    """One entry of an endpoint's `responses=`: an `ErrorBody`, with `code` as the example.
    Not for 422, which has the validation shape and which FastAPI documents by itself."""
    example = {"detail": description, "code": code}
    return {
        "model": ErrorBody,
        "description": description,
        "content": {"application/json": {"example": example}},
    }


def document_errors(app: FastAPI) -> None:
    """Makes the app's OpenAPI document show the `code` of its 422s and, when
    `limit_request_bodies` caps bodies, the 413 of every operation that takes one; when
    `limit_request_headers` caps headers, the 431 of every operation."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            max_body_bytes = getattr(app.state, "max_body_bytes", None)
            max_header_bytes = getattr(app.state, "max_header_bytes", None)
            _describe(build(), max_body_bytes, max_header_bytes)
        return build()  # FastAPI keeps the document it built first

    app.openapi = openapi  # type: ignore[method-assign]


def _describe(
    document: dict[str, Any], max_body_bytes: int | None, max_header_bytes: int | None
) -> None:
    _describe_validation_code(document)
    if max_body_bytes is not None:
        too_long = f"The body is longer than {max_body_bytes} bytes."
        _list_on_operations(document, "413", too_long, only_with_body=True)
    if max_header_bytes is not None:
        too_large = f"The headers total more than {max_header_bytes} bytes."
        _list_on_operations(document, "431", too_large)


def _describe_validation_code(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    validation = schemas.get("HTTPValidationError")
    if validation is not None:
        validation["properties"]["code"] = {
            "title": "Code",
            "type": "string",
            "description": "`validation_error`, or the code of the service rule refused.",
        }
        validation["required"] = ["detail", "code"]


def _list_on_operations(
    document: dict[str, Any], status: str, description: str, *, only_with_body: bool = False
) -> None:
    """Adds an `ErrorBody` response for `status` to every operation (with `only_with_body`,
    to those that take a body) that does not list one already."""
    response = _error_body(document, description)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if not only_with_body or "requestBody" in operation:
                operation["responses"].setdefault(status, response)


def _error_body(document: dict[str, Any], description: str) -> dict[str, Any]:
    """A response with `ErrorBody` content, the schema added to the document if missing."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorBody", ErrorBody.model_json_schema(ref_template=_SCHEMAS + "{model}"))
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _SCHEMAS + "ErrorBody"}}},
    }


Responses = dict[int | str, dict[str, Any]]


class ErrorCatalogue:
    """A service's documented errors, one `error_response` per status, so that endpoints
    list theirs by number and every endpoint describes a status the same way."""

    def __init__(self, errors: Mapping[int, dict[str, Any]]) -> None:
        self._errors = dict(errors)

    def responses(self, *statuses: int, ok: tuple[type[BaseModel], str] | None = None) -> Responses:
        """The `responses=` of an endpoint: its error statuses (FastAPI adds the 422 itself),
        and a 200 `ok` = (model, description) beside a 201 that can also answer 200."""
        listed: Responses = {status: self._errors[status] for status in statuses}
        if ok is not None:
            listed[200] = {"model": ok[0], "description": ok[1]}
        return listed
