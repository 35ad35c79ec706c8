"""The error responses listed in the OpenAPI document."""

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    detail: str
    code: str


_DESCRIPTIONS = {
    401: "Missing, invalid or expired token.",
    403: "Not a member, or acting as someone else.",
    404: "Unknown chat or user.",
    409: "client_message_id reused for a different message.",
    422: "Invalid request.",
    429: "Rate limited; see Retry-After.",
    503: "A dependency is down; see Retry-After.",
}


def errors(
    *codes: int, ok: tuple[type[BaseModel], str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of an endpoint: its error codes, and a 200 beside a 201 if `ok`."""
    listed: dict[int | str, dict[str, Any]] = {
        code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes
    }
    if ok is not None:
        listed[200] = {"model": ok[0], "description": ok[1]}
    return listed
