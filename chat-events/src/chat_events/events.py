"""Decoding records of the two topics: every record has a kind and a schema version.

`chat_messages` carries messages, edits, deletions and read marks; `chat_messages_grouped`
carries bursts and the edits, deletions and read marks passed on. Records written before
kinds existed (version 1) have neither field and are messages, or bursts. A record of a kind
or version this code does not know is rejected with a reason, for the dead-letter topic.
"""

import json
from typing import Any, cast

from pydantic import BaseModel, ValidationError

from chat_events.changes import MessageChange, ReadMark
from chat_events.payloads import Burst, MessageEvent
from chat_events.versions import EVENT_VERSION

ChatEvent = MessageEvent | MessageChange | ReadMark
"""A record of `chat_messages`."""

GroupedRecord = Burst | MessageChange | ReadMark
"""A record of `chat_messages_grouped`."""

_EVENT_KINDS: dict[str, type[BaseModel]] = {
    "message": MessageEvent,
    "edit": MessageChange,
    "delete": MessageChange,
    "read": ReadMark,
}
_GROUPED_KINDS: dict[str, type[BaseModel]] = {
    "burst": Burst,
    "edit": MessageChange,
    "delete": MessageChange,
    "read": ReadMark,
}


class EventRejected(ValueError):
    """A record no stage can use; `reason` is the dead-letter reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def decode_chat_event(raw: bytes | None) -> ChatEvent:
    """A record of `chat_messages`, or `EventRejected`."""
    return cast(ChatEvent, _decode(raw, _EVENT_KINDS, legacy_kind="message"))


def decode_grouped_record(raw: bytes | None) -> GroupedRecord:
    """A record of `chat_messages_grouped`, or `EventRejected`."""
    return cast(GroupedRecord, _decode(raw, _GROUPED_KINDS, legacy_kind="burst"))


def _decode(raw: bytes | None, kinds: dict[str, type[BaseModel]], legacy_kind: str) -> BaseModel:
    document = _json_object(raw)
    kind = document.get("kind", legacy_kind)
    version = document.get("v", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise EventRejected("unparsable", f"v must be a positive integer, not {version!r}")
    if version > EVENT_VERSION:
        raise EventRejected(
            "unsupported_version", f"v {version} is newer than {EVENT_VERSION}, the newest known"
        )
    model = kinds.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise EventRejected("unknown_kind", f"kind {kind!r} is not one of {sorted(kinds)}")
    try:
        return model.model_validate({**document, "kind": kind, "v": version})
    except ValidationError as error:
        raise EventRejected("unparsable", str(error)) from error


def _json_object(raw: bytes | None) -> dict[str, Any]:
    try:
        document = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError) as error:
        raise EventRejected("unparsable", f"not JSON: {error}") from error
    if not isinstance(document, dict):
        raise EventRejected("unparsable", "not a JSON object")
    return document
