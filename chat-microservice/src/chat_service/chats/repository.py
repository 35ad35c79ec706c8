"""Cassandra access for chats and the per-user chat lists."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chat_events import ChatMessage
from chat_service.chats.schemas import Chat
from chat_service.database import READ, WRITE, Repository, Row, Write, as_uuid, write_timestamp


@dataclass(frozen=True)
class LatestMessage:
    """What a chat-list entry records of the chat's newest message: where to read it."""

    message_id: uuid.UUID
    time: uuid.UUID
    from_user: str


@dataclass(frozen=True)
class ListEntry:
    """A chat in a user's list, as stored: the chat, its newest message, the user's mark."""

    chat: Chat
    last_activity: datetime | None
    latest: LatestMessage | None
    read_up_to: uuid.UUID | None


class ChatRepository(Repository):
    queries = {
        "insert": (
            "INSERT INTO {ks}.chats (chat_id, users_id, users_name, created_at) "
            "VALUES (?, ?, ?, ?) IF NOT EXISTS",
            WRITE,
        ),
        "get": (
            "SELECT chat_id, users_id, users_name, created_at FROM {ks}.chats WHERE chat_id = ?",
            READ,
        ),
        "list_entry": (
            "INSERT INTO {ks}.chats_by_user "
            "(user_id, chat_id, users_id, users_name, created_at) VALUES (?, ?, ?, ?, ?)",
            WRITE,
        ),
        # The message's time is the write timestamp: the newest message wins even when
        # two sends of one chat land out of order. `last_activity` is no longer written:
        # `last_message_time` carries it (the column remains for rows from before). Nor is
        # `last_message_body`: a copy of the body would outlive its edits and deletion,
        # so the list reads the message's own row.
        "touch": (
            "UPDATE {ks}.chats_by_user USING TIMESTAMP ? SET last_message_id = ?, "
            "last_message_time = ?, last_message_from = ? "
            "WHERE user_id = ? AND chat_id = ?",
            WRITE,
        ),
        # The sender's own entry: the sender has read up to the message it sends (a read
        # mark, written with the mark's time as its timestamp like every mark).
        "touch_own": (
            "UPDATE {ks}.chats_by_user USING TIMESTAMP ? SET last_message_id = ?, "
            "last_message_time = ?, last_message_from = ?, read_up_to = ? "
            "WHERE user_id = ? AND chat_id = ?",
            WRITE,
        ),
        # A user's chat list is one partition, read whole (the driver pages only when asked).
        "list": (
            "SELECT chat_id, users_id, users_name, created_at, last_activity, "
            "last_message_id, last_message_time, last_message_from, read_up_to "
            "FROM {ks}.chats_by_user WHERE user_id = ?",
            READ,
        ),
        "forget_body": (
            "UPDATE {ks}.chats_by_user SET last_message_body = null "
            "WHERE user_id = ? AND chat_id = ?",
            WRITE,
        ),
    }

    async def insert_if_absent(self, chat: Chat) -> tuple[bool, Chat]:
        """Creates the chat unless its id exists; returns (created, the stored chat)."""
        rows = await self._statements.run(
            "insert", chat.chat_id, chat.users_id, chat.users_name, chat.created_at
        )
        row = rows[0]
        if row["[applied]"]:
            return True, chat
        return False, _chat_from(row)

    async def get(self, chat_id: uuid.UUID) -> Chat | None:
        rows = await self._statements.run("get", chat_id)
        return _chat_from(rows[0]) if rows else None

    async def add_to_member_lists(self, chat: Chat) -> None:
        await asyncio.gather(
            *(
                self._statements.run(
                    "list_entry", uid, chat.chat_id, chat.users_id, chat.users_name, chat.created_at
                )
                for uid in chat.users_id
            )
        )

    def touch(self, chat: Chat, message: ChatMessage) -> list[Write]:
        """The writes that record `message` as the chat's latest in both members' lists, and
        the sender's read mark at it (run by the message repository together with the
        message itself: the mark costs no request of its own)."""
        written_at = write_timestamp(message.time)
        values = (message.message_id, message.time, message.from_user)
        return [
            self._statements.bind("touch_own", written_at, *values, message.time, uid, chat.chat_id)
            if uid == message.from_user
            else self._statements.bind("touch", written_at, *values, uid, chat.chat_id)
            for uid in chat.users_id
        ]

    def forget_body(self, chat: Chat) -> list[Write]:
        """The writes that remove the copy of a message's body that entries written before the
        list read the message's row may hold, in both members' entries (run by the message
        repository together with the deletion). Unconditional: the column is read by nothing,
        and an entry touched since holds an older message's body under a newer
        `last_message_id`, which a check of the id would leave behind."""
        return [self._statements.bind("forget_body", uid, chat.chat_id) for uid in chat.users_id]

    async def list_for(self, user_id: str) -> list[ListEntry]:
        rows = await self._statements.run("list", user_id)
        return [_entry_from(row) for row in rows]


def _entry_from(row: Row) -> ListEntry:
    latest = None
    if row["last_message_time"] is not None:
        latest = LatestMessage(
            uuid.UUID(row["last_message_id"]),
            uuid.UUID(row["last_message_time"]),
            row["last_message_from"],
        )
    return ListEntry(
        chat=_chat_from(row),
        last_activity=row["last_activity"],  # the driver gives aware UTC times
        latest=latest,
        read_up_to=as_uuid(row["read_up_to"]),
    )


def _chat_from(row: Row) -> Chat:
    return Chat(**_chat_fields(row))


def _chat_fields(row: Row) -> dict[str, Any]:
    return {
        "chat_id": uuid.UUID(row["chat_id"]),
        "users_id": list(row["users_id"]),
        "users_name": list(row["users_name"]),
        "created_at": row["created_at"],
    }
