"""Request and response bodies of the chat endpoints."""

import uuid
from typing import Self

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from chat_events import IsoTime, UserId


class ChatCreate(BaseModel):
    users_id: list[UserId] = Field(
        min_length=2, max_length=2, description="The two members, in the order to keep."
    )
    users_name: list[str] | None = Field(
        None,
        description="Accepted for compatibility and ignored: names come from the auth service.",
    )

    @model_validator(mode="after")
    def _two_distinct_users(self) -> Self:
        if self.users_id[0] == self.users_id[1]:
            raise ValueError("users_id must name two different users")
        return self


class Chat(BaseModel):
    chat_id: uuid.UUID
    users_id: list[str]
    users_name: list[str]
    created_at: AwareDatetime

    def other_member(self, user_id: str) -> str:
        return self.users_id[1] if self.users_id[0] == user_id else self.users_id[0]

    def has_member(self, user_id: str) -> bool:
        return user_id in self.users_id


class LastMessage(BaseModel):
    """The newest message of a chat, as the chat list previews it: its current state."""

    message_id: uuid.UUID
    from_user: str
    body: str = Field(description='The current body; "" once the message is deleted.')
    time: uuid.UUID = Field(description="TimeUUID of the message.")
    time_iso: IsoTime
    edited_at: IsoTime | None = Field(None, description="When the body was last edited.")
    deleted: bool = Field(False, description="A tombstone: the author deleted the message.")


class ChatSummary(Chat):
    """A chat in the caller's list: the chat plus what the list shows of its activity."""

    last_activity: IsoTime | None = Field(
        None, description="Time of the newest message; null before the first one."
    )
    last_message: LastMessage | None = None
    read_up_to: uuid.UUID | None = Field(
        None, description="TimeUUID of the newest message the caller has read; null if none."
    )
    unread_count: int = Field(
        0, ge=0, le=99, description="Messages of the other member after `read_up_to`, up to 99."
    )
    unread_count_capped: bool = Field(
        False, description="More than 99 messages are unread (shown as 99+)."
    )
