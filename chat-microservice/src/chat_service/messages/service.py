"""Sending and reading history (docs/architecture.md, "How a message travels").

Sending: validate, check membership and the sender's rate, claim the `client_message_id`,
check for a repeated body, store, publish, and only then acknowledge. The repeated-body check
comes after the claim so that retries of one message (same key) are not mistaken for spam.
Any failure after the claim leaves a state that a retry with the same `client_message_id`
completes, so the client ends up with exactly one message.
"""

import uuid
from datetime import UTC, datetime, timedelta

import structlog
from cachetools import LRUCache

from auth_validator import Principal
from chat_events import ChatMessage, MessageEvent, new_timeuuid, timeuuid_datetime
from chat_service.buckets import NEWEST_BUCKET, bucket_of, bucket_of_timeuuid
from chat_service.chats.schemas import Chat
from chat_service.chats.service import ChatService
from chat_service.database import StoreUnavailable
from chat_service.errors import (
    ClientMessageIdReused,
    InvalidChatRequest,
    NotYourIdentity,
    RepeatedBody,
    SendRateLimited,
)
from chat_service.messages.publisher import MessagePublisher, PublishUnavailable
from chat_service.messages.repository import Claim, MessageRepository
from chat_service.messages.schemas import SendMessage
from chat_service.rate_limits import SendLimits, Verdict
from chat_service.settings import ChatSettings

log = structlog.get_logger(__name__)

# How many bucket numbers one index read fetches; a page rarely needs more.
_BUCKETS_PER_READ = 8
# How far ahead another replica's clock may run.
_CLOCK_SKEW = timedelta(minutes=5)


class MessageService:
    def __init__(
        self,
        settings: ChatSettings,
        repository: MessageRepository,
        chats: ChatService,
        publisher: MessagePublisher,
        limits: SendLimits,
    ) -> None:
        self._bucket_days = settings.bucket_days
        self._repository = repository
        self._chats = chats
        self._publisher = publisher
        self._limits = limits
        # (chat, bucket) pairs already in chat_buckets: the index row is written once.
        self._indexed: LRUCache[tuple[uuid.UUID, int], bool] = LRUCache(maxsize=100_000)

    async def send(self, caller: Principal, outgoing: SendMessage) -> tuple[bool, ChatMessage]:
        """Stores and publishes a message; (True, message) when new, (False, it) on a repeat."""
        chat = await self._chats.chat_for_member(caller, outgoing.chat_id)
        self._check_parties(caller, chat, outgoing)
        _raise_if_limited(await self._limits.check_rate(caller.user_id))
        time = new_timeuuid()
        message = self._message(caller, outgoing, time)
        if outgoing.client_message_id is not None:
            claim = await self._repository.claim(
                chat.chat_id, outgoing.client_message_id, time, self._bucket(time)
            )
            if not claim.taken_now:
                return False, await self._complete_repeat(chat, outgoing, caller, claim)
        await self._check_repeat(caller, message)
        await self._store_and_publish(chat, message)
        return True, message

    async def history(
        self, caller: Principal, chat_id: uuid.UUID, before: uuid.UUID | None, quantity: int
    ) -> list[ChatMessage]:
        """Up to `quantity` messages strictly older than `before` (or the newest), newest first.

        One bucket is read first without a look at the bucket index: the cursor's, or for the
        newest page the bucket of now. It holds the newest messages wanted, and usually the
        whole page. Then older non-empty buckets come from the index until the page is full:
        the work depends on the page, not on the chat's length.
        """
        await self._chats.chat_for_member(caller, chat_id)
        page: list[ChatMessage] = []
        upper = NEWEST_BUCKET
        first = self._bucket(before) if before is not None else self._bucket_of_now()
        if first is not None:
            page += await self._repository.page(chat_id, first, before, quantity)
            upper = first - 1
        while len(page) < quantity:
            buckets = await self._repository.buckets_up_to(chat_id, upper, _BUCKETS_PER_READ)
            for bucket in buckets:
                page += await self._repository.page(chat_id, bucket, before, quantity - len(page))
                if len(page) == quantity:
                    break
            if len(buckets) < _BUCKETS_PER_READ:
                break
            upper = buckets[-1] - 1
        return page

    def _bucket_of_now(self) -> int | None:
        """The bucket of now, or None so close to the next bucket that a message from a clock
        running a little ahead may already be there (the index then finds it)."""
        now = datetime.now(UTC)
        current = bucket_of(now, self._bucket_days)
        return current if bucket_of(now + _CLOCK_SKEW, self._bucket_days) == current else None

    def _check_parties(self, caller: Principal, chat: Chat, outgoing: SendMessage) -> None:
        if outgoing.from_user is not None and outgoing.from_user != caller.user_id:
            raise NotYourIdentity("from_user must be you.")
        if outgoing.to_user != chat.other_member(caller.user_id):
            raise InvalidChatRequest(
                "to_user must be the other member of the chat.", loc=("body", "to_user")
            )

    async def _check_repeat(self, caller: Principal, message: ChatMessage) -> None:
        verdict = await self._limits.check_repeat(caller.user_id, message.body)
        if not verdict.allowed and message.client_message_id is not None:
            # Give the key back, so the same message can be sent once the window passes.
            await self._repository.release(message.chat_id, message.client_message_id)
        _raise_if_limited(verdict)

    async def _complete_repeat(
        self, chat: Chat, outgoing: SendMessage, caller: Principal, claim: Claim
    ) -> ChatMessage:
        """Returns the message of an already used key, finishing whatever its first try left."""
        stored = await self._repository.get(chat.chat_id, claim.bucket, claim.time)
        if stored is None:
            # The first try died between claim and write: write it now, under the claimed time.
            stored = self._message(caller, outgoing, claim.time)
            await self._store(chat, stored)
        elif (stored.from_user, stored.to_user, stored.body) != (
            caller.user_id,
            outgoing.to_user,
            outgoing.body,
        ):
            raise ClientMessageIdReused()
        if not claim.published:
            await self._publish(chat, stored)
        return stored

    async def _store_and_publish(self, chat: Chat, message: ChatMessage) -> None:
        try:
            await self._store(chat, message)
            await self._publish(chat, message)
        except (StoreUnavailable, PublishUnavailable):
            if message.client_message_id is None:
                # Without a key a retry would be a second message: take this one back.
                await self._withdraw(message)
            raise

    async def _store(self, chat: Chat, message: ChatMessage) -> None:
        bucket = self._bucket(message.time)
        # The index row goes first: a bucket listed but empty costs one read, while a
        # message in an unlisted bucket would be invisible to history.
        if (chat.chat_id, bucket) not in self._indexed:
            await self._repository.add_bucket(chat.chat_id, bucket)
            self._indexed[(chat.chat_id, bucket)] = True
        # The message and its chat's "latest message" in both members' lists: one request.
        await self._repository.insert(message, bucket, *self._chats.activity_writes(chat, message))

    async def _publish(self, chat: Chat, message: ChatMessage) -> None:
        event = MessageEvent.of(message, chat.users_id)
        await self._publisher.publish(event)
        if message.client_message_id is not None:
            try:
                await self._repository.mark_published(chat.chat_id, message.client_message_id)
            except StoreUnavailable:
                # Only costs a harmless re-publish if the client repeats the request.
                log.warning("mark_published_failed", message_id=str(message.message_id))

    async def _withdraw(self, message: ChatMessage) -> None:
        try:
            await self._repository.delete(message.chat_id, self._bucket(message.time), message.time)
        except StoreUnavailable:
            log.warning("withdraw_failed", message_id=str(message.message_id))

    def _message(self, caller: Principal, outgoing: SendMessage, time: uuid.UUID) -> ChatMessage:
        return ChatMessage(
            message_id=uuid.uuid5(time, "message"),
            chat_id=outgoing.chat_id,
            from_user=caller.user_id,
            to_user=outgoing.to_user,
            body=outgoing.body,
            time=time,
            time_iso=timeuuid_datetime(time),
            client_message_id=outgoing.client_message_id,
        )

    def _bucket(self, time: uuid.UUID) -> int:
        return bucket_of_timeuuid(time, self._bucket_days)


def _raise_if_limited(verdict: Verdict) -> None:
    if verdict.allowed:
        return
    log.info("send_limited", limit=verdict.limit, retry_after=verdict.retry_after_seconds)
    if verdict.limit == "repeat":
        raise RepeatedBody(verdict.retry_after_seconds)
    raise SendRateLimited(verdict.retry_after_seconds)
