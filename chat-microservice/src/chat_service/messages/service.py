"""Sending and reading history (docs/architecture.md, "How a message travels").

Sending: validate and check membership, then one call to the send gate counts the sender's
rate, finds a repeat of the `client_message_id` or takes it, and checks for a repeated body
(send_gate.py; retries of one message are repeats, never spam); then store, publish, and only
then acknowledge. Any failure after the claim leaves a state that a retry with the same
`client_message_id` completes, so the client ends up with exactly one message.

Changing (docs/decisions/0001-messages-that-change.md, section 3): the author edits or deletes
a message; Cassandra orders the states by write timestamps (a revision's microseconds for an
edit, `DELETION_TIMESTAMP` for a deletion), then the state Cassandra holds is published as a
`MessageChange` and answered. Repeating a change answers and publishes the current state
again, so a retry after a 503 always reaches the stream.
"""

import uuid
from datetime import UTC, datetime, timedelta

import structlog
from cachetools import LRUCache

from auth_validator import Principal
from chat_events import (
    ChatMessage,
    MessageChange,
    MessageEvent,
    new_timeuuid,
    timeuuid_at,
    timeuuid_datetime,
)
from chat_service.buckets import NEWEST_BUCKET, bucket_of, bucket_of_timeuuid
from chat_service.chats.schemas import Chat
from chat_service.chats.service import ChatService
from chat_service.database import StoreUnavailable, write_timestamp
from chat_service.errors import (
    ChangeRateLimited,
    ClientMessageIdReused,
    InvalidChatRequest,
    MessageDeleted,
    MessageNotFound,
    NotTheAuthor,
    NotYourIdentity,
    RepeatedBody,
    SendRateLimited,
)
from chat_service.messages.publisher import MessagePublisher, PublishUnavailable
from chat_service.messages.repository import Claim, MessageFields, MessageRepository
from chat_service.messages.schemas import EditMessage, SendMessage
from chat_service.messages.send_gate import Attempt, SendGate
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
        gate: SendGate,
    ) -> None:
        self._bucket_days = settings.bucket_days
        self._repository = repository
        self._chats = chats
        self._publisher = publisher
        self._limits = limits
        self._gate = gate
        # (chat, bucket) pairs already in chat_buckets: the index row is written once.
        self._indexed: LRUCache[tuple[uuid.UUID, int], bool] = LRUCache(maxsize=100_000)

    async def send(self, caller: Principal, outgoing: SendMessage) -> tuple[bool, ChatMessage]:
        """Stores and publishes a message; (True, message) when new, (False, it) on a repeat."""
        chat = await self._chats.chat_for_member(caller, outgoing.chat_id)
        self._check_parties(caller, chat, outgoing)
        time = new_timeuuid()
        attempt = Attempt(
            caller.user_id,
            chat.chat_id,
            outgoing.client_message_id,
            outgoing.body,
            Claim(time, self._bucket(time)),
        )
        admission = await self._gate.admit(attempt)
        _raise_if_limited(admission.verdict)
        if admission.claim is not None:
            repeat = await self._complete_repeat(chat, outgoing, caller, attempt, admission.claim)
            return False, repeat
        message = self._message(caller, outgoing, time)
        await self._store_and_publish(chat, message, attempt)
        return True, message

    async def history(
        self, caller: Principal, chat_id: uuid.UUID, before: uuid.UUID | None, quantity: int
    ) -> list[ChatMessage]:
        """Up to `quantity` messages strictly older than `before` (or the newest), newest first."""
        fields = await self.history_fields(caller, chat_id, before, quantity)
        return [ChatMessage(**message) for message in fields]

    async def history_fields(
        self, caller: Principal, chat_id: uuid.UUID, before: uuid.UUID | None, quantity: int
    ) -> list[MessageFields]:
        """`history` as the stored messages' fields, for a page written without building a
        model of each (`schemas.page_json`).

        One bucket is read first without a look at the bucket index: the cursor's, or for the
        newest page the bucket of now. It holds the newest messages wanted, and usually the
        whole page. Then older non-empty buckets come from the index until the page is full:
        the work depends on the page, not on the chat's length.
        """
        await self._chats.chat_for_member(caller, chat_id)
        page: list[MessageFields] = []
        upper = NEWEST_BUCKET
        first = self._bucket(before) if before is not None else self._bucket_of_now()
        if first is not None:
            page += await self._repository.page_fields(chat_id, first, before, quantity)
            upper = first - 1
        while len(page) < quantity:
            buckets = await self._repository.buckets_up_to(chat_id, upper, _BUCKETS_PER_READ)
            for bucket in buckets:
                page += await self._repository.page_fields(
                    chat_id, bucket, before, quantity - len(page)
                )
                if len(page) == quantity:
                    break
            if len(buckets) < _BUCKETS_PER_READ:
                break
            upper = buckets[-1] - 1
        return page

    async def edit(
        self, caller: Principal, chat_id: uuid.UUID, time: uuid.UUID, edit: EditMessage
    ) -> ChatMessage:
        """Gives the caller's message a new body and publishes the change; editing to the body
        it already has changes nothing and publishes the current change again."""
        chat, stored = await self._own_message(caller, chat_id, time)
        if stored.deleted:
            raise MessageDeleted()
        await self._check_change_rate(caller)
        if stored.body == edit.body:
            if stored.revision is not None:
                await self._publisher.publish(MessageChange.of(stored, chat.users_id))
            return stored
        revision = _revision_after(stored)
        await self._repository.edit(stored, self._bucket(time), edit.body, revision)
        return await self._publish_current(chat, stored)

    async def delete(self, caller: Principal, chat_id: uuid.UUID, time: uuid.UUID) -> ChatMessage:
        """Deletes the caller's message for good (its body leaves Cassandra) and publishes the
        deletion; deleting it again publishes the deletion again. Returns the tombstone."""
        chat, stored = await self._own_message(caller, chat_id, time)
        await self._check_change_rate(caller)
        if not stored.deleted:
            revision = _revision_after(stored)
            forget = self._chats.forget_preview_writes(chat)
            await self._repository.delete_body(stored, self._bucket(time), revision, *forget)
        return await self._publish_current(chat, stored)

    async def _own_message(
        self, caller: Principal, chat_id: uuid.UUID, time: uuid.UUID
    ) -> tuple[Chat, ChatMessage]:
        chat = await self._chats.chat_for_member(caller, chat_id)
        stored = await self._repository.get(chat_id, self._bucket(time), time)
        if stored is None:
            raise MessageNotFound()
        if stored.from_user != caller.user_id:
            raise NotTheAuthor()
        return chat, stored

    async def _check_change_rate(self, caller: Principal) -> None:
        verdict = await self._limits.check_change(caller.user_id)
        if not verdict.allowed:
            log.info("change_limited", retry_after=verdict.retry_after_seconds)
            raise ChangeRateLimited(verdict.retry_after_seconds)

    async def _publish_current(self, chat: Chat, written: ChatMessage) -> ChatMessage:
        """Publishes the state Cassandra now holds, which may be a concurrent change that won
        over ours: what is published is always what history shows."""
        bucket = self._bucket(written.time)
        current = await self._repository.get(written.chat_id, bucket, written.time) or written
        await self._publisher.publish(MessageChange.of(current, chat.users_id))
        return current

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

    async def _complete_repeat(
        self, chat: Chat, outgoing: SendMessage, caller: Principal, attempt: Attempt, claim: Claim
    ) -> ChatMessage:
        """Returns the message of an already used key, finishing whatever its first try left.

        The message may have been changed since: a deleted one is answered as the tombstone
        and never published again as a message (it would overtake its deletion downstream),
        and an edited one no longer has the body sent, so only its parties are compared."""
        stored = await self._repository.get(chat.chat_id, claim.bucket, claim.time)
        if stored is None:
            # The first try died between claim and write: write it now, under the claimed time.
            stored = self._message(caller, outgoing, claim.time)
            await self._store(chat, stored)
        elif not _same_message(stored, caller, outgoing):
            raise ClientMessageIdReused()
        if claim.published or stored.deleted:
            return stored
        await self._publish(chat, stored, attempt, claim)
        return await self._publish_later_change(chat, stored)

    async def _publish_later_change(self, chat: Chat, published: ChatMessage) -> ChatMessage:
        """After a message was published again, publishes the change it went through meanwhile
        (if any) after it, so that an older copy never overtakes an edit or a deletion."""
        bucket = self._bucket(published.time)
        current = await self._repository.get(published.chat_id, bucket, published.time)
        if current is None or current.revision == published.revision:
            return published
        await self._publisher.publish(MessageChange.of(current, chat.users_id))
        return current

    async def _store_and_publish(self, chat: Chat, message: ChatMessage, attempt: Attempt) -> None:
        try:
            await self._store(chat, message)
            await self._publish(chat, message, attempt, attempt.proposed)
        except (StoreUnavailable, PublishUnavailable):
            if message.client_message_id is None:
                # Without a key a retry would be a second message: take this one back.
                await self._withdraw(message)
            raise

    async def _store(self, chat: Chat, message: ChatMessage) -> None:
        bucket = self._bucket(message.time)
        first_here = (chat.chat_id, bucket) not in self._indexed
        activity = []
        if first_here:
            # The index row goes first: a bucket listed but empty costs one read, while a
            # message in an unlisted bucket would be invisible to history.
            await self._repository.add_bucket(chat.chat_id, bucket)
            # The members' list entries point at the chat's newest bucket: written by the
            # first message each process stores there, not by every message (the chat list
            # reads the newest message of that bucket).
            activity = self._chats.activity_writes(chat, message)
        await self._repository.insert(message, bucket, *activity)
        self._indexed[(chat.chat_id, bucket)] = True

    async def _publish(
        self, chat: Chat, message: ChatMessage, attempt: Attempt, claim: Claim
    ) -> None:
        await self._publisher.publish(MessageEvent.of(message, chat.users_id))
        await self._gate.mark_published(attempt, claim)

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


def _same_message(stored: ChatMessage, caller: Principal, outgoing: SendMessage) -> bool:
    """Whether a stored message is the one this send with its key asks for."""
    if (stored.from_user, stored.to_user) != (caller.user_id, outgoing.to_user):
        return False
    return stored.revision is not None or stored.body == outgoing.body


def _revision_after(message: ChatMessage) -> uuid.UUID:
    """A new revision whose write timestamp (microseconds) is strictly later than the
    message's current one: another replica's clock may be ahead of ours."""
    revision = new_timeuuid()
    latest = message.revision or message.time
    if write_timestamp(revision) <= write_timestamp(latest):
        revision = timeuuid_at(timeuuid_datetime(latest) + timedelta(microseconds=1))
    return revision


def _raise_if_limited(verdict: Verdict) -> None:
    if verdict.allowed:
        return
    log.info("send_limited", limit=verdict.limit, retry_after=verdict.retry_after_seconds)
    if verdict.limit == "repeat":
        raise RepeatedBody(verdict.retry_after_seconds)
    raise SendRateLimited(verdict.retry_after_seconds)
