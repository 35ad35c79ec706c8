"""Request bodies and query parameters of the messaging endpoints."""

import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import to_json

from chat_events import UserId, is_timeuuid, iso_with_offset

MAX_BODY_LENGTH = 4000
_ALLOWED_CONTROLS = {"\n", "\t"}


def _version_one(value: uuid.UUID) -> uuid.UUID:
    if not is_timeuuid(value):
        raise ValueError("must be a time-based (version 1) UUID")
    return value


TimeUuid = Annotated[uuid.UUID, AfterValidator(_version_one)]


def _clean_body(value: str) -> str:
    body = value.strip()
    if not body:
        raise ValueError("body must not be empty")
    if len(body) > MAX_BODY_LENGTH:
        raise ValueError(f"body must be at most {MAX_BODY_LENGTH} characters")
    if any(_forbidden(char) for char in body):
        raise ValueError("body must not contain control characters other than newline and tab")
    return body


MessageBody = Annotated[
    str,
    AfterValidator(_clean_body),
    Field(
        description="1-4000 characters after trimming; no control characters "
        "except newline and tab."
    ),
]
"""The body of a message, sent or edited: trimmed, then checked."""


class SendMessage(BaseModel):
    chat_id: uuid.UUID
    to_user: UserId
    body: MessageBody
    from_user: UserId | None = Field(None, description="If given, must be the caller.")
    client_message_id: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        pattern=r"^[\x21-\x7e]+$",
        description="Idempotency key chosen by the client; a retry with the same key yields "
        "the same message.",
    )


class EditMessage(BaseModel):
    body: MessageBody


def _forbidden(char: str) -> bool:
    # Cc covers NUL, the C0/C1 controls and DEL; format characters (Cf) such as the
    # zero-width joiner are legitimate in emoji and scripts, so they stay.
    # Lone surrogates (Cs) cannot be stored as UTF-8 at all.
    category = unicodedata.category(char)
    return category == "Cs" or (category == "Cc" and char not in _ALLOWED_CONTROLS)


def page_json(page: Sequence[Mapping[str, Any]]) -> bytes:
    """A history page of stored messages' fields (`MessageFields`, in `ChatMessage`'s order),
    written as the route writes `list[ChatMessage]`, byte for byte, without building a model
    of each: the fields come from our own rows, validated when they were written."""
    return to_json([_wire(fields) for fields in page])


def _wire(fields: Mapping[str, Any]) -> dict[str, Any]:
    edited_at = fields["edited_at"]
    return {
        **fields,
        "time_iso": iso_with_offset(fields["time_iso"]),
        "edited_at": None if edited_at is None else iso_with_offset(edited_at),
    }
