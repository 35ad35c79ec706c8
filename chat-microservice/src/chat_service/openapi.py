"""The responses besides the first success that the chat endpoints list in OpenAPI."""

from typing import Any

from pydantic import BaseModel

from auth_validator import error_response

_ERRORS = {
    401: error_response(
        "invalid_token", "Missing (`not_authenticated`), invalid or expired token."
    ),
    403: error_response(
        "not_a_member", "Not a member, or acting as someone else (`not_your_identity`)."
    ),
    404: error_response("chat_not_found", "Unknown chat, or unknown user (`user_not_found`)."),
    409: error_response(
        "client_message_id_reused", "client_message_id reused for a different message."
    ),
    429: error_response(
        "send_rate_limited", "Rate limited (also `repeated_body`); see Retry-After."
    ),
    503: error_response(
        "cassandra_unavailable",
        "Cassandra, Kafka or the auth service is down (`kafka_unavailable`, "
        "`auth_service_unavailable`); see Retry-After.",
    ),
}


def errors(
    *codes: int, ok: tuple[type[BaseModel], str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of an endpoint: its error statuses (FastAPI adds the 422 itself),
    and a 200 beside a 201 if `ok`."""
    listed: dict[int | str, dict[str, Any]] = {code: _ERRORS[code] for code in codes}
    if ok is not None:
        listed[200] = {"model": ok[0], "description": ok[1]}
    return listed
