"""The JSON documents that travel on Kafka (and, for bursts, land in Firestore)."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer, model_validator

from chat_events.timeuuid import timeuuid_sort_key
from chat_events.versions import EVENT_VERSION


def iso_with_offset(value: datetime) -> str:
    """ISO-8601 in UTC with an explicit `+00:00` offset (pydantic would write `Z`) and always
    six fractional digits, so that the strings sort as the times do (browsers query Firestore
    for bursts newer than a `latest_message_time_iso`)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


IsoTime = Annotated[AwareDatetime, PlainSerializer(iso_with_offset, return_type=str)]
"""A timezone-aware time that serialises as `iso_with_offset` writes it."""


class ChatMessage(BaseModel):
    """A stored message, as the chat API returns it: its current body, or a tombstone."""

    model_config = ConfigDict(frozen=True)

    message_id: uuid.UUID
    chat_id: uuid.UUID
    from_user: str
    to_user: str
    body: str = Field(description='The current body; "" once the message is deleted.')
    time: uuid.UUID = Field(description="TimeUUID of the message; the history cursor.")
    time_iso: IsoTime
    client_message_id: str | None = None
    edited_at: IsoTime | None = Field(None, description="When the body was last edited.")
    deleted: bool = Field(False, description="A tombstone: the author deleted the message.")
    revision: uuid.UUID | None = Field(
        None,
        description="TimeUUID of the latest edit or deletion, null if never changed. "
        "A deletion wins over any edit; between edits the later revision wins.",
    )

    def change_order(self) -> tuple[bool, tuple[int, bytes]]:
        """Where this state stands among the states of the message: the greater one wins,
        the same rule in Cassandra, in the aggregator's buffers, in Firestore and in the UI."""
        return (self.deleted, timeuuid_sort_key(self.revision or self.time))


class MessageEvent(ChatMessage):
    """A message on `chat_messages`: the API shape plus the chat's ordered members."""

    kind: Literal["message"] = "message"
    v: int = EVENT_VERSION
    users_id: list[str]

    @classmethod
    def of(cls, message: ChatMessage, users_id: Sequence[str]) -> Self:
        """The event the chat service publishes for a stored message of a chat."""
        return cls(**_message_fields(message), users_id=list(users_id))

    def message(self) -> ChatMessage:
        """The message without the chat's members, as a burst lists it."""
        # Every value was validated when this event was built or read; the aggregator calls
        # this for every message it emits, so the copy is not validated a second time.
        return ChatMessage.model_construct(**_message_fields(self))


def _message_fields(message: ChatMessage) -> dict[str, Any]:
    """The values of `ChatMessage`'s own fields, named by the model: a field added to the
    message is carried both ways without touching the conversions."""
    return {name: getattr(message, name) for name in ChatMessage.model_fields}


class Burst(BaseModel):
    """Consecutive messages of one sender in one chat, written as one Firestore document."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["burst"] = "burst"
    v: int = EVENT_VERSION
    aggregate_id: str
    chat_id: uuid.UUID
    from_user: str
    users_id: list[str]
    list_of_messages: list[ChatMessage]
    first_message_time: uuid.UUID
    latest_message_time: uuid.UUID
    latest_message_time_iso: IsoTime
    count: int = Field(ge=1, description="The number of messages in `list_of_messages`.")

    @model_validator(mode="after")
    def _count_matches_the_messages(self) -> Self:
        # Consumers bill, count and display by `count`; a burst that disagrees with its own
        # list is malformed, and the consumer dead-letters it rather than store it.
        if self.count != len(self.list_of_messages):
            raise ValueError(
                f"count is {self.count} but list_of_messages holds {len(self.list_of_messages)}"
            )
        return self


def burst_from_messages(messages: Sequence[MessageEvent], origin: str) -> Burst:
    """Builds the burst of one (chat, sender) from its messages, in time order.

    `origin` names where the burst's first record was read (`<partition>-<offset>` of
    `chat_messages`). The aggregate id is the sender, the first message and that origin: a
    burst rebuilt after a crash starts at the same record and gets the same id, so it
    overwrites its own document; a message published twice (a retried send) that opens a
    second burst starts at another record, so it can never replace the first burst's document.
    """
    if not messages:
        raise ValueError("a burst needs at least one message")
    ordered = sorted(messages, key=lambda m: timeuuid_sort_key(m.time))
    first, last = ordered[0], ordered[-1]
    if any(m.chat_id != first.chat_id or m.from_user != first.from_user for m in ordered):
        raise ValueError("a burst holds messages of one chat and one sender only")
    return Burst(
        aggregate_id=f"{first.from_user}_{first.time}_{origin}",
        chat_id=first.chat_id,
        from_user=first.from_user,
        users_id=list(first.users_id),
        list_of_messages=[m.message() for m in ordered],
        first_message_time=first.time,
        latest_message_time=last.time,
        latest_message_time_iso=last.time_iso,
        count=len(ordered),
    )
