"""Cassandra access for read marks: `chats_by_user.read_up_to` of the reader's own entry."""

import uuid

from chat_service.database import READ, WRITE, Repository, as_uuid, write_timestamp


class ReadRepository(Repository):
    queries = {
        # The mark's own time is the write timestamp: a mark never moves back, whatever
        # order marks arrive in (the send path writes the sender's mark the same way).
        "write": (
            "UPDATE {ks}.chats_by_user USING TIMESTAMP ? SET read_up_to = ? "
            "WHERE user_id = ? AND chat_id = ?",
            WRITE,
        ),
        "get": (
            "SELECT read_up_to FROM {ks}.chats_by_user WHERE user_id = ? AND chat_id = ?",
            READ,
        ),
    }

    async def stored(self, user_id: str, chat_id: uuid.UUID) -> uuid.UUID | None:
        rows = await self._statements.run("get", user_id, chat_id)
        mark = as_uuid(rows[0]["read_up_to"]) if rows else None
        return mark

    async def write(self, user_id: str, chat_id: uuid.UUID, mark: uuid.UUID) -> None:
        await self._statements.run("write", write_timestamp(mark), mark, user_id, chat_id)
