"""Read marks (docs/decisions/0001-messages-that-change.md, section 4).

A member marks a chat read up to a message. The first mark of a (user, chat) in a window is
written to Cassandra and published at once; the marks after it within `read_window` wait in
Redis (`PendingMarks`), the highest winning, and the flusher writes that one when the window
ends. So each (user, chat) costs at most one Cassandra write and one `read` record per window.
While Redis does not answer, every mark is written through: no bound, and no loss.
"""

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import structlog

from auth_validator import Principal
from chat_events import ReadMark, timeuuid_datetime
from chat_service.chats.schemas import Chat
from chat_service.chats.service import ChatService, is_later, later_mark
from chat_service.database import StoreUnavailable
from chat_service.errors import ChatNotFound, InvalidChatRequest
from chat_service.messages.publisher import MessagePublisher, PublishUnavailable
from chat_service.reads.pending import DueMark, MarksStoreUnavailable, PendingMarks
from chat_service.reads.repository import ReadRepository
from chat_service.reads.schemas import ReadState, ReadUpTo

log = structlog.get_logger(__name__)

# How far ahead of this replica's clock a mark may be (the message's replica may run ahead).
MARK_SKEW = timedelta(seconds=10)
# Marks one flush takes at most; the rest wait for the next round, a second later.
_FLUSH_BATCH = 200


class ReadService:
    def __init__(
        self,
        chats: ChatService,
        repository: ReadRepository,
        pending: PendingMarks,
        publisher: MessagePublisher,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._chats = chats
        self._repository = repository
        self._pending = pending
        self._publisher = publisher
        self._clock = clock

    async def mark(self, caller: Principal, chat_id: uuid.UUID, read: ReadUpTo) -> ReadState:
        """Records that the caller has read the chat up to `read.up_to`; answers the highest
        mark known, written or pending. A mark never moves back."""
        chat = await self._chats.chat_for_member(caller, chat_id)
        if timeuuid_datetime(read.up_to) > self._clock() + MARK_SKEW:
            raise InvalidChatRequest("up_to must not be in the future.", loc=("body", "up_to"))
        stored = await self._repository.stored(caller.user_id, chat_id)
        if stored is not None and not is_later(read.up_to, stored):
            return _state(chat_id, stored, await self._pending_of(caller, chat_id))
        try:
            offer = await self._pending.offer(caller.user_id, chat_id, read.up_to)
        except MarksStoreUnavailable:
            await self._write(chat, caller.user_id, read.up_to)
            return _state(chat_id, read.up_to)
        if offer.write_now:
            await self._write_offered(chat, caller.user_id, offer.mark)
        return _state(chat_id, offer.mark, stored)

    async def flush_due(self) -> int:
        """Writes the pending marks whose window has ended; how many were written."""
        try:
            due = await self._pending.take_due(_FLUSH_BATCH)
        except MarksStoreUnavailable:
            return 0
        written = await asyncio.gather(*(self._flush(mark) for mark in due))
        return sum(written)

    async def _flush(self, due: DueMark) -> bool:
        try:
            chat = await self._chats.chat(due.chat_id)
            await self._write(chat, due.user_id, due.mark)
        except (StoreUnavailable, PublishUnavailable, ChatNotFound) as error:
            log.warning("read_mark_flush_failed", chat_id=str(due.chat_id), error=repr(error))
            await self._quietly(self._pending.retry_later(due))
            return False
        await self._quietly(self._pending.written(due))
        return True

    async def _write_offered(self, chat: Chat, user_id: str, mark: uuid.UUID) -> None:
        try:
            await self._write(chat, user_id, mark)
        except (StoreUnavailable, PublishUnavailable):
            # The offer took a pending mark (answered before) along: keep it for the flusher.
            await self._quietly(self._pending.retry_later(DueMark(user_id, chat.chat_id, mark)))
            raise

    async def _write(self, chat: Chat, user_id: str, mark: uuid.UUID) -> None:
        await self._repository.write(user_id, chat.chat_id, mark)
        await self._publisher.publish(
            ReadMark(
                chat_id=chat.chat_id,
                reader=user_id,
                users_id=chat.users_id,
                up_to=mark,
                up_to_iso=timeuuid_datetime(mark),
            )
        )

    async def _pending_of(self, caller: Principal, chat_id: uuid.UUID) -> uuid.UUID | None:
        try:
            return await self._pending.pending_of(caller.user_id, chat_id)
        except MarksStoreUnavailable:
            return None

    @staticmethod
    async def _quietly(settling: Awaitable[None]) -> None:
        # Logged by the store; the mark waits for the next one, or is lost with Redis.
        with contextlib.suppress(MarksStoreUnavailable):
            await settling


def _state(chat_id: uuid.UUID, mark: uuid.UUID, other: uuid.UUID | None = None) -> ReadState:
    """The answer: the later of two marks known."""
    highest = later_mark(mark, other) or mark
    return ReadState(chat_id=chat_id, up_to=highest, up_to_iso=timeuuid_datetime(highest))
