"""Cassandra access for chats and the per-user chat lists."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cassandra.cluster import Session

from chat_events import ChatMessage, timeuuid_datetime
from chat_service.chats.schemas import Chat, ChatSummary, LastMessage
from chat_service.database import Row, Statements, Write
from chat_service.settings import ChatSettings

_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ChatRepository:
    def __init__(self, session: Session) -> None:
        self._statements = Statements(session)

    async def prepare(self, settings: ChatSettings) -> None:
        read, write = settings.read_consistency, settings.write_consistency
        queries = {
            "insert": (
                "INSERT INTO {ks}.chats (chat_id, users_id, users_name, created_at) "
                "VALUES (?, ?, ?, ?) IF NOT EXISTS",
                write,
            ),
            "get": (
                "SELECT chat_id, users_id, users_name, created_at FROM {ks}.chats "
                "WHERE chat_id = ?",
                read,
            ),
            "list_entry": (
                "INSERT INTO {ks}.chats_by_user "
                "(user_id, chat_id, users_id, users_name, created_at) VALUES (?, ?, ?, ?, ?)",
                write,
            ),
            # The message's time is the write timestamp: the newest message wins even when
            # two sends of one chat land out of order. `last_activity` is no longer written:
            # `last_message_time` carries it (the column remains for rows from before).
            "touch": (
                "UPDATE {ks}.chats_by_user USING TIMESTAMP ? SET last_message_id = ?, "
                "last_message_time = ?, last_message_from = ?, last_message_body = ? "
                "WHERE user_id = ? AND chat_id = ?",
                write,
            ),
            "list": (
                "SELECT chat_id, users_id, users_name, created_at, last_activity, "
                "last_message_id, last_message_time, last_message_from, last_message_body "
                "FROM {ks}.chats_by_user WHERE user_id = ?",
                read,
            ),
        }
        await self._statements.prepare(queries, settings.keyspace)
        # A user's chat list is one partition, read whole (never paged mid-way).
        self._statements["list"].fetch_size = None

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
        """The writes that record `message` as the chat's latest, in both members' lists
        (run by the message repository together with the message itself)."""
        written_at = (message.time_iso - _UNIX_EPOCH) // timedelta(microseconds=1)
        values = (message.message_id, message.time, message.from_user, message.body)
        return [
            self._statements.bind("touch", written_at, *values, uid, chat.chat_id)
            for uid in chat.users_id
        ]

    async def list_for(self, user_id: str) -> list[ChatSummary]:
        rows = await self._statements.run("list", user_id)
        return [_summary_from(row) for row in rows]


def _aware(value: datetime | None) -> datetime | None:
    # The driver returns timestamps as naive UTC datetimes.
    return value.replace(tzinfo=UTC) if value is not None else None


def _summary_from(row: Row) -> ChatSummary:
    last_message = _last_message_from(row)
    # Rows last touched before the latest message was recorded only have `last_activity`.
    last_activity = last_message.time_iso if last_message else _aware(row["last_activity"])
    return ChatSummary(**_chat_fields(row), last_activity=last_activity, last_message=last_message)


def _last_message_from(row: Row) -> LastMessage | None:
    if row["last_message_time"] is None:
        return None
    return LastMessage(
        message_id=row["last_message_id"],
        from_user=row["last_message_from"],
        body=row["last_message_body"],
        time=row["last_message_time"],
        time_iso=timeuuid_datetime(row["last_message_time"]),
    )


def _chat_from(row: Row) -> Chat:
    return Chat(**_chat_fields(row))


def _chat_fields(row: Row) -> dict[str, Any]:
    return {
        "chat_id": row["chat_id"],
        "users_id": list(row["users_id"]),
        "users_name": list(row["users_name"]),
        "created_at": _aware(row["created_at"]),
    }
