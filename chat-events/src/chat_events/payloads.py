"""The JSON documents that travel on Kafka (and, for bursts, land in Firestore)."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_serializer

from chat_events.timeuuid import timeuuid_sort_key


class ChatMessage(BaseModel):
    """A stored message, as the chat API returns it."""

    model_config = ConfigDict(frozen=True)

    message_id: uuid.UUID
    chat_id: uuid.UUID
    from_user: str
    to_user: str
    body: str
    time: uuid.UUID = Field(description="TimeUUID of the message; the history cursor.")
    time_iso: AwareDatetime
    client_message_id: str | None = None

    @field_serializer("time_iso")
    def _time_iso_with_offset(self, value: datetime) -> str:
        return iso_with_offset(value)


class MessageEvent(ChatMessage):
    """A message on `chat_messages`: the API shape plus the chat's ordered members."""

    users_id: list[str]


class Burst(BaseModel):
    """Consecutive messages of one sender in one chat, written as one Firestore document."""

    model_config = ConfigDict(frozen=True)

    aggregate_id: str
    chat_id: uuid.UUID
    from_user: str
    users_id: list[str]
    list_of_messages: list[ChatMessage]
    first_message_time: uuid.UUID
    latest_message_time: uuid.UUID
    latest_message_time_iso: datetime
    count: int

    @field_serializer("latest_message_time_iso")
    def _latest_time_with_offset(self, value: datetime) -> str:
        return iso_with_offset(value)


def iso_with_offset(value: datetime) -> str:
    """ISO-8601 with an explicit `+00:00` offset (pydantic would write `Z`), as the API promises."""
    return value.astimezone(UTC).isoformat()


def burst_from_messages(messages: Sequence[MessageEvent]) -> Burst:
    """Builds the burst of one (chat, sender) from its messages, in time order.

    The aggregate id depends only on the sender and the first message, so a burst rebuilt
    after a crash gets the same id and overwrites the same Firestore document.
    """
    if not messages:
        raise ValueError("a burst needs at least one message")
    ordered = sorted(messages, key=lambda m: timeuuid_sort_key(m.time))
    first, last = ordered[0], ordered[-1]
    if any(m.chat_id != first.chat_id or m.from_user != first.from_user for m in ordered):
        raise ValueError("a burst holds messages of one chat and one sender only")
    return Burst(
        aggregate_id=f"{first.from_user}_{first.time}",
        chat_id=first.chat_id,
        from_user=first.from_user,
        users_id=list(first.users_id),
        list_of_messages=[ChatMessage.model_validate(m.model_dump()) for m in ordered],
        first_message_time=first.time,
        latest_message_time=last.time,
        latest_message_time_iso=last.time_iso,
        count=len(ordered),
    )
