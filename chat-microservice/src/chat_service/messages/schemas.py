"""Request bodies and query parameters of the messaging endpoints."""

import unicodedata
import uuid
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from chat_events import UserId, is_timeuuid

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
