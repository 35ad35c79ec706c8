"""What can happen to a chat after a message is sent: an edit, a deletion, a read mark."""

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chat_events.payloads import ChatMessage, IsoTime
from chat_events.timeuuid import timeuuid_datetime, timeuuid_sort_key
from chat_events.versions import EVENT_VERSION


class MessageChange(BaseModel):
    """An edit or a deletion of one message by its author, on `chat_messages` (and passed on
    to `chat_messages_grouped` for the documents that already hold the message)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["edit", "delete"]
    v: int = EVENT_VERSION
    chat_id: uuid.UUID
    message_id: uuid.UUID
    time: uuid.UUID = Field(description="TimeUUID of the changed message.")
    from_user: str = Field(description="The author, the only one who may change it.")
    users_id: list[str]
    revision: uuid.UUID = Field(description="TimeUUID of this change; orders the changes.")
    body: str | None = Field(None, description="The new body of an edit; null for a deletion.")

    @model_validator(mode="after")
    def _body_only_on_edits(self) -> "MessageChange":
        if (self.kind == "edit") != (self.body is not None):
            raise ValueError("an edit carries the new body and a deletion carries none")
        return self

    @classmethod
    def of(cls, message: ChatMessage, users_id: list[str]) -> "MessageChange":
        """The change that brings any copy of the message to the state `message` holds."""
        if message.revision is None:
            raise ValueError("a message that was never changed has no change to publish")
        return cls(
            kind="delete" if message.deleted else "edit",
            chat_id=message.chat_id,
            message_id=message.message_id,
            time=message.time,
            from_user=message.from_user,
            users_id=users_id,
            revision=message.revision,
            body=None if message.deleted else message.body,
        )

    def change_order(self) -> tuple[bool, tuple[int, bytes]]:
        """Where the state this change makes stands: `ChatMessage.change_order` of it."""
        return (self.kind == "delete", timeuuid_sort_key(self.revision))

    def applied_to(self, message: ChatMessage) -> ChatMessage:
        """The message after this change, or the message itself if its state already wins."""
        if message.message_id != self.message_id:
            raise ValueError("a change applies to its own message only")
        if self.change_order() <= message.change_order():
            return message
        if self.kind == "delete":
            update = {"body": "", "deleted": True, "revision": self.revision}
        else:
            update = {
                "body": self.body,
                "edited_at": timeuuid_datetime(self.revision),
                "revision": self.revision,
            }
        return message.model_copy(update=update)


class ReadMark(BaseModel):
    """A member has read a chat up to a message (coalesced by the chat service)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["read"] = "read"
    v: int = EVENT_VERSION
    chat_id: uuid.UUID
    reader: str
    users_id: list[str]
    up_to: uuid.UUID = Field(description="TimeUUID of the newest message read.")
    up_to_iso: IsoTime
