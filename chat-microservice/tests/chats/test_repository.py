import uuid
from datetime import UTC, datetime, timedelta

from chat_events import ChatMessage, timeuuid_at, timeuuid_datetime
from chat_service.buckets import bucket_of
from chat_service.chats.repository import ChatRepository
from chat_service.chats.schemas import Chat
from chat_service.database import connect
from chat_service.messages.repository import MessageRepository
from chat_service.settings import ChatSettings


def _message(chat: Chat, at: datetime, body: str) -> ChatMessage:
    time = timeuuid_at(at)
    return ChatMessage(
        message_id=uuid.uuid4(),
        chat_id=chat.chat_id,
        from_user=chat.users_id[0],
        to_user=chat.users_id[1],
        body=body,
        time=time,
        time_iso=timeuuid_datetime(time),
    )


async def test_the_newest_message_stays_last_when_an_older_one_is_recorded_after_it(
    chat_settings: ChatSettings,
) -> None:
    session = await connect(chat_settings)
    try:
        repository, messages = ChatRepository(session), MessageRepository(session)
        await repository.prepare(chat_settings)
        await messages.prepare(chat_settings)
        first = uuid.uuid4().int % 10**12  # users of this test only: the keyspace outlives a run
        chat = Chat(
            chat_id=uuid.uuid4(),
            users_id=[str(first), str(first + 1)],
            users_name=["ann", "ben"],
            created_at=datetime.now(UTC).replace(microsecond=0),
        )
        await repository.add_to_member_lists(chat)
        now = datetime.now(UTC)
        newer = _message(chat, now, "newer")
        older = _message(chat, now - timedelta(milliseconds=5), "older")
        for message in (newer, older):  # the older lands late, as a slow concurrent send would
            bucket = bucket_of(message.time_iso, chat_settings.bucket_days)
            await messages.insert(message, bucket, *repository.touch(chat, message))
        listed = {uid: await repository.list_for(uid) for uid in chat.users_id}
    finally:
        await session.close()
    for [entry] in listed.values():
        assert entry.latest is not None
        assert entry.latest.message_id == newer.message_id
        assert entry.latest.time == newer.time
