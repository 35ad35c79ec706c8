"""The rules of chats: who may open one, who may see it, and "my chats": their order, the
preview of each one's newest message and how many messages wait unread in each."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from cachetools import LRUCache

from auth_validator import Principal
from chat_events import ChatMessage, timeuuid_at, timeuuid_datetime, timeuuid_sort_key
from chat_service.auth_client import AuthClient
from chat_service.buckets import bucket_of_timeuuid
from chat_service.chats.repository import ChatRepository, ListEntry
from chat_service.chats.schemas import Chat, ChatCreate, ChatSummary, LastMessage
from chat_service.database import Write
from chat_service.errors import ChatNotFound, NotAMember, NotYourIdentity, UserNotFound
from chat_service.messages.repository import MessageRepository

# Unread messages are counted exactly up to 99; one more and the list shows "99+".
UNREAD_SHOWN = 99
# Reads one unread count may make at most (message pages and bucket-index look-ups): a chat
# with long-deleted stretches or many silent buckets is counted from its newest messages only.
_UNREAD_READS = 6
# Older than every message: the lower bound of an unread count when nothing was read yet.
_BEGINNING = timeuuid_at(datetime(1582, 10, 15, tzinfo=UTC))

# Fixed namespace: the chat id of a pair must be the same on every replica, forever.
_CHAT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:chat-service:chat")


def chat_id_for(user_a: str, user_b: str) -> uuid.UUID:
    """The deterministic id of the chat between two users, whatever their order."""
    first, second = sorted((user_a, user_b))
    return uuid.uuid5(_CHAT_NAMESPACE, f"{first}:{second}")


def _now_ms() -> datetime:
    # Cassandra timestamps keep milliseconds; a 201 must show what a later 200 will show.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class ChatService:
    def __init__(self, repository: ChatRepository, auth: AuthClient) -> None:
        self._repository = repository
        self._auth = auth
        # Chats never change once created, so a cached chat is never stale.
        self._known: LRUCache[uuid.UUID, Chat] = LRUCache(maxsize=50_000)

    async def open_chat(
        self, caller: Principal, token: str, new_chat: ChatCreate
    ) -> tuple[bool, Chat]:
        """Creates the chat of the pair, or returns the existing one; (created, chat)."""
        if caller.user_id not in new_chat.users_id:
            raise NotYourIdentity("You can only open chats you are a member of.")
        users = await self._auth.find_many(new_chat.users_id, token)
        names = []
        for user_id, user in zip(new_chat.users_id, users, strict=True):
            if user is None:
                raise UserNotFound(f"User {user_id} does not exist.")
            names.append(user.username)
        chat = Chat(
            chat_id=chat_id_for(*new_chat.users_id),
            users_id=list(new_chat.users_id),
            users_name=names,
            created_at=_now_ms(),
        )
        created, stored = await self._repository.insert_if_absent(chat)
        # Also on the 200 path: repairs the lists if a previous create died half-way.
        await self._repository.add_to_member_lists(stored)
        return created, stored

    async def chat(self, chat_id: uuid.UUID) -> Chat:
        """The chat, whoever asks (for work that is not a caller's request)."""
        chat = self._known.get(chat_id) or await self._repository.get(chat_id)
        if chat is None:
            raise ChatNotFound()
        self._known[chat_id] = chat
        return chat

    async def chat_for_member(self, caller: Principal, chat_id: uuid.UUID) -> Chat:
        chat = await self.chat(chat_id)
        if not chat.has_member(caller.user_id):
            raise NotAMember()
        return chat

    def activity_writes(self, chat: Chat, message: ChatMessage) -> list[Write]:
        """The writes that make `message` the chat's latest in its members' lists (and the
        sender's read mark); the caller runs them with the message's own write."""
        return self._repository.touch(chat, message)

    def forget_preview_writes(self, chat: Chat) -> list[Write]:
        """The writes that remove a deleted message's body from the members' list entries that
        copied it; the caller runs them with the deletion's own write."""
        return self._repository.forget_body(chat)


class PendingMarks(Protocol):
    """Read marks not yet written to Cassandra (kept by the reads domain)."""

    async def pending_for(self, user_id: str) -> dict[uuid.UUID, uuid.UUID]:
        """The user's pending mark of each chat that has one."""
        ...


@dataclass(frozen=True)
class ChatList:
    """ "My chats": one read of the caller's list partition and one of their pending marks,
    then per chat, in parallel, the newest message (the preview) and, only where the other
    member wrote after the caller's mark, one bounded read of the newest messages."""

    repository: ChatRepository
    messages: MessageRepository
    pending: PendingMarks
    bucket_days: int

    async def chats_of(self, caller: Principal) -> list[ChatSummary]:
        """The caller's chats, the one with the newest message (or creation) first."""
        entries, pending = await asyncio.gather(
            self.repository.list_for(caller.user_id), self.pending.pending_for(caller.user_id)
        )
        summaries = await asyncio.gather(
            *(self._summary(caller.user_id, e, pending.get(e.chat.chat_id)) for e in entries)
        )
        return sorted(summaries, key=_activity, reverse=True)

    async def _summary(
        self, reader: str, entry: ListEntry, pending: uuid.UUID | None
    ) -> ChatSummary:
        mark = later_mark(entry.read_up_to, pending)
        newest = await self._newest(entry)
        unread = 0
        if newest is not None:
            unread, replied = await self._unread(entry.chat.chat_id, reader, newest, mark)
            # The reader has read up to their own newest message.
            mark = later_mark(mark, replied)
        last_activity: datetime | None
        if newest is not None:
            last_activity = timeuuid_datetime(newest.time)
        elif entry.latest is not None:
            last_activity = timeuuid_datetime(entry.latest.time)
        else:
            last_activity = entry.last_activity
        return ChatSummary(
            **entry.chat.model_dump(),
            last_activity=last_activity,
            last_message=_preview(newest) if newest else None,
            read_up_to=mark,
            unread_count=min(unread, UNREAD_SHOWN),
            unread_count_capped=unread > UNREAD_SHOWN,
        )

    async def _newest(self, entry: ListEntry) -> ChatMessage | None:
        """The chat's newest message: the newest of the bucket the entry points at. Entries
        are written by the first message each replica stores in a bucket, not by every
        message, so they name the newest bucket but not always the newest message."""
        if entry.latest is None:
            return None
        bucket = self._bucket(entry.latest.time)
        page = await self.messages.page(entry.chat.chat_id, bucket, None, 1)
        return page[0] if page else None

    async def _unread(
        self, chat_id: uuid.UUID, reader: str, newest: ChatMessage, mark: uuid.UUID | None
    ) -> tuple[int, uuid.UUID | None]:
        """The other member's messages after the mark and after the reader's own newest
        message (a reply shows what it answers was read) that are not deleted, counted up to
        UNREAD_SHOWN + 1 from the newest bucket down; no read at all when the newest message
        is the reader's own or already read. With the count, the time of the reader's own
        newest message where the count met it."""
        if newest.from_user == reader:
            return 0, newest.time
        if not is_later(newest.time, mark):
            return 0, None
        after = mark or _BEGINNING
        lowest, wanted = self._bucket(after), UNREAD_SHOWN + 1
        # Just past the newest message: the upper bound of the first page.
        upper = timeuuid_at(timeuuid_datetime(newest.time) + timedelta(microseconds=1))
        bucket: int | None = self._bucket(newest.time)
        before, count = upper, 0
        for _ in range(_UNREAD_READS):
            if bucket is None or count >= wanted:
                break
            page = await self.messages.senders_between(chat_id, bucket, after, before, wanted)
            for sender in page:
                if sender.from_user == reader:
                    return count, sender.time
                count += not sender.deleted
            if len(page) == wanted:  # the bucket may hold more: page on within it
                before = page[-1].time
                continue
            before = upper
            older = await self.messages.buckets_up_to(chat_id, bucket - 1, 1)
            bucket = older[0] if older and older[0] >= lowest else None
        return count, None

    def _bucket(self, time: uuid.UUID) -> int:
        return bucket_of_timeuuid(time, self.bucket_days)


def _preview(message: ChatMessage) -> LastMessage:
    return LastMessage(
        message_id=message.message_id,
        from_user=message.from_user,
        body=message.body,
        time=message.time,
        time_iso=message.time_iso,
        edited_at=message.edited_at,
        deleted=message.deleted,
    )


def is_later(time: uuid.UUID, mark: uuid.UUID | None) -> bool:
    """Whether `time` is after the mark (any time is, when nothing was read)."""
    return mark is None or timeuuid_sort_key(time) > timeuuid_sort_key(mark)


def later_mark(first: uuid.UUID | None, second: uuid.UUID | None) -> uuid.UUID | None:
    """The later of two read marks, either of which may be missing."""
    if first is None or second is None:
        return first or second
    return max(first, second, key=timeuuid_sort_key)


def _activity(summary: ChatSummary) -> datetime:
    return summary.last_activity or summary.created_at
