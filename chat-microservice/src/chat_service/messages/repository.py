"""Cassandra access for messages, their bucket index and the idempotency keys.

Every read names its partition and carries a LIMIT: no COUNT, no ALLOW FILTERING, no scan.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chat_events import ChatMessage, timeuuid_datetime
from chat_service.database import (
    DELETION_TIMESTAMP,
    READ,
    WRITE,
    Repository,
    Row,
    Write,
    write_timestamp,
)

# What a message's row holds besides its body, as Cassandra counts a batch's size (ids, names,
# the key, timestamps): an estimate on the safe side of the bench's rows (about 330 bytes).
_ROW_BYTES = 400

MessageFields = dict[str, Any]
"""A stored message as `ChatMessage`'s fields, in the model's order: ids as the driver's text,
times as aware datetimes."""


@dataclass(frozen=True)
class Sender:
    """Who sent a message and whether it is deleted: what an unread count needs of it."""

    time: uuid.UUID
    from_user: str
    deleted: bool


@dataclass(frozen=True)
class Claim:
    """The message a `client_message_id` names: its time, bucket and whether it reached Kafka."""

    time: uuid.UUID
    bucket: int
    published: bool = False

    def encoded(self) -> str:
        return f"{self.time.hex}|{self.bucket}|{int(self.published)}"

    @classmethod
    def decoded(cls, value: str) -> "Claim":
        time, bucket, published = value.split("|")
        return cls(uuid.UUID(hex=time), int(bucket), published == "1")


class MessageRepository(Repository):
    queries = {
        # A claim's durable copy is its message's row (messages/send_gate.py), found by
        # the key's index within one partition; rows written by the lightweight
        # transactions claims once were stay in message_ids.
        "find_claim": (
            "SELECT time FROM {ks}.messages "
            "WHERE chat_id = ? AND bucket = ? AND client_message_id = ? LIMIT 1",
            READ,
        ),
        "find_old_claim": (
            "SELECT time, bucket, published FROM {ks}.message_ids "
            "WHERE chat_id = ? AND client_message_id = ?",
            READ,
        ),
        "claims_seen": (
            "SELECT seen FROM {ks}.claim_stores WHERE store IN (?, '*')",
            READ,
        ),
        "note_claims_seen": (
            "INSERT INTO {ks}.claim_stores (store, seen) VALUES (?, toTimestamp(now()))",
            WRITE,
        ),
        "add_bucket": ("INSERT INTO {ks}.chat_buckets (chat_id, bucket) VALUES (?, ?)", WRITE),
        # The message's own time is its write timestamp, as a revision's is an edit's: an
        # edit then always wins over the message's first write, whatever the clocks of the
        # replicas that wrote them.
        "insert": (
            "INSERT INTO {ks}.messages (bucket, chat_id, time, message_id, from_user, to_user, "
            "body, client_message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?",
            WRITE,
        ),
        # Cell by cell, the later revision wins whatever order two edits arrive in.
        "edit": (
            "UPDATE {ks}.messages USING TIMESTAMP ? SET body = ?, edited_at = ?, revision = ? "
            "WHERE chat_id = ? AND bucket = ? AND time = ?",
            WRITE,
        ),
        # Above every edit's timestamp: the body is gone for good (see DELETION_TIMESTAMP).
        "delete_body": (
            "UPDATE {ks}.messages USING TIMESTAMP ? "
            "SET body = null, deleted = true, revision = ? "
            "WHERE chat_id = ? AND bucket = ? AND time = ?",
            WRITE,
        ),
        "delete": (
            "DELETE FROM {ks}.messages WHERE chat_id = ? AND bucket = ? AND time = ?",
            WRITE,
        ),
        "get": (
            "SELECT chat_id, time, message_id, from_user, to_user, body, client_message_id, "
            "edited_at, deleted, revision "
            "FROM {ks}.messages WHERE chat_id = ? AND bucket = ? AND time = ?",
            READ,
        ),
        "senders_between": (
            "SELECT time, from_user, deleted FROM {ks}.messages "
            "WHERE chat_id = ? AND bucket = ? AND time > ? AND time < ? LIMIT ?",
            READ,
        ),
        "buckets": (
            "SELECT bucket FROM {ks}.chat_buckets WHERE chat_id = ? AND bucket <= ? LIMIT ?",
            READ,
        ),
        "page_before": (
            "SELECT chat_id, time, message_id, from_user, to_user, body, client_message_id, "
            "edited_at, deleted, revision "
            "FROM {ks}.messages WHERE chat_id = ? AND bucket = ? AND time < ? LIMIT ?",
            READ,
        ),
        "page_newest": (
            "SELECT chat_id, time, message_id, from_user, to_user, body, client_message_id, "
            "edited_at, deleted, revision "
            "FROM {ks}.messages WHERE chat_id = ? AND bucket = ? LIMIT ?",
            READ,
        ),
    }

    async def find_claim(
        self, chat_id: uuid.UUID, client_message_id: str, buckets: Sequence[int]
    ) -> Claim | None:
        """The durable copy of a key's claim: its message, in one of `buckets`, or a claim
        of the lightweight-transaction days. It does not know whether the message reached
        Kafka (those older claims do)."""
        for bucket in buckets:
            rows = await self._statements.run("find_claim", chat_id, bucket, client_message_id)
            if rows:
                return Claim(uuid.UUID(rows[0]["time"]), bucket)
        rows = await self._statements.run("find_old_claim", chat_id, client_message_id)
        if not rows:
            return None
        return Claim(uuid.UUID(rows[0]["time"]), rows[0]["bucket"], bool(rows[0]["published"]))

    async def claims_seen(self, store: str) -> datetime | None:
        """The latest time a claim was noted in `store` (or by anyone before stores were)."""
        rows = await self._statements.run("claims_seen", store)
        seen = [row["seen"] for row in rows if row["seen"] is not None]
        return max(seen) if seen else None  # aware UTC from the driver

    async def note_claims_seen(self, store: str) -> None:
        await self._statements.run("note_claims_seen", store)

    async def add_bucket(self, chat_id: uuid.UUID, bucket: int) -> None:
        await self._statements.run("add_bucket", chat_id, bucket)

    async def insert(self, message: ChatMessage, bucket: int, *alongside: Write) -> None:
        """Stores the message (the durable copy of its key's claim too), and in the same
        request the writes `alongside` and the inserts of other sends in this turn of the
        event loop (`TurnBatch`)."""
        insert = self._statements.bind(
            "insert",
            bucket,
            message.chat_id,
            message.time,
            message.message_id,
            message.from_user,
            message.to_user,
            message.body,
            message.client_message_id,
            write_timestamp(message.time),
        )
        writes = [insert, *alongside]
        size = (len(message.body.encode()) + _ROW_BYTES) * len(writes)
        await self._statements.run_in_turn(writes, size)

    async def edit(self, message: ChatMessage, bucket: int, body: str, revision: uuid.UUID) -> None:
        """Writes a new body under `revision`; an older revision arriving later loses."""
        await self._statements.run(
            "edit",
            write_timestamp(revision),
            body,
            timeuuid_datetime(revision),
            revision,
            message.chat_id,
            bucket,
            message.time,
        )

    async def delete_body(
        self, message: ChatMessage, bucket: int, revision: uuid.UUID, *alongside: Write
    ) -> None:
        """Removes the body for good and marks the message deleted, and in the same request
        the writes `alongside` (one batch)."""
        delete = self._statements.bind(
            "delete_body", DELETION_TIMESTAMP, revision, message.chat_id, bucket, message.time
        )
        await self._statements.run_together([delete, *alongside])

    async def senders_between(
        self, chat_id: uuid.UUID, bucket: int, after: uuid.UUID, before: uuid.UUID, limit: int
    ) -> list[Sender]:
        """Up to `limit` messages of one bucket strictly between two times, newest first:
        only who sent each and whether it is deleted."""
        rows = await self._statements.run("senders_between", chat_id, bucket, after, before, limit)
        return [
            Sender(uuid.UUID(row["time"]), row["from_user"], bool(row["deleted"])) for row in rows
        ]

    async def delete(self, chat_id: uuid.UUID, bucket: int, time: uuid.UUID) -> None:
        await self._statements.run("delete", chat_id, bucket, time)

    async def get(self, chat_id: uuid.UUID, bucket: int, time: uuid.UUID) -> ChatMessage | None:
        rows = await self._statements.run("get", chat_id, bucket, time)
        return message_from(rows[0]) if rows else None

    async def buckets_up_to(self, chat_id: uuid.UUID, bucket: int, limit: int) -> list[int]:
        """Non-empty buckets of the chat at or before `bucket`, newest first."""
        rows = await self._statements.run("buckets", chat_id, bucket, limit)
        return [row["bucket"] for row in rows]

    async def page(
        self, chat_id: uuid.UUID, bucket: int, before: uuid.UUID | None, limit: int
    ) -> list[ChatMessage]:
        """Up to `limit` messages of one bucket, newest first, strictly older than `before`."""
        return [
            ChatMessage(**fields)
            for fields in await self.page_fields(chat_id, bucket, before, limit)
        ]

    async def page_fields(
        self, chat_id: uuid.UUID, bucket: int, before: uuid.UUID | None, limit: int
    ) -> list[MessageFields]:
        """`page` as the messages' fields, not validated again (see `message_fields`)."""
        if before is None:
            rows = await self._statements.run("page_newest", chat_id, bucket, limit)
        else:
            rows = await self._statements.run("page_before", chat_id, bucket, before, limit)
        return [message_fields(row) for row in rows]


def message_from(row: Row) -> ChatMessage:
    # Validated by the model's constructor: pydantic-core checks the 11 fields (and parses the
    # ids the driver gives as text) faster than `model_construct`'s loop in Python
    # (docs/performance.md, "History pages").
    return ChatMessage(**message_fields(row))


def message_fields(row: Row) -> MessageFields:
    """What a row holds, as the message's current state: the rules of a deleted or an edited
    message, applied once for the model and for the history page written without it."""
    time = uuid.UUID(row["time"])
    deleted, revision, edited_at = bool(row["deleted"]), row["revision"], row["edited_at"]
    if revision is not None and not deleted:
        # The column keeps milliseconds; the revision has the exact time of the edit, as the
        # published change (`MessageChange.applied_to`) has it.
        edited_at = timeuuid_datetime(uuid.UUID(revision))
    return {
        "message_id": row["message_id"],
        "chat_id": row["chat_id"],
        "from_user": row["from_user"],
        "to_user": row["to_user"],
        # A deleted message's body cell is a tombstone: null, and "" on the wire.
        "body": "" if deleted else row["body"] or "",
        "time": row["time"],
        "time_iso": timeuuid_datetime(time),
        "client_message_id": row["client_message_id"],
        "edited_at": edited_at,
        "deleted": deleted,
        "revision": revision,
    }
