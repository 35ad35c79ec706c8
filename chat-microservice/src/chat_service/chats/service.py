"""The rules of chats: who may open one, who may see it, and the order of "my chats"."""

import uuid
from datetime import UTC, datetime

from cachetools import LRUCache

from auth_validator import Principal
from chat_events import ChatMessage
from chat_service.auth_client import AuthClient
from chat_service.chats.repository import ChatRepository
from chat_service.chats.schemas import Chat, ChatCreate, ChatSummary
from chat_service.database import Write
from chat_service.errors import ChatNotFound, NotAMember, NotYourIdentity, UserNotFound

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

    async def chat_for_member(self, caller: Principal, chat_id: uuid.UUID) -> Chat:
        chat = self._known.get(chat_id) or await self._repository.get(chat_id)
        if chat is None:
            raise ChatNotFound()
        self._known[chat_id] = chat
        if not chat.has_member(caller.user_id):
            raise NotAMember()
        return chat

    async def chats_of(self, caller: Principal) -> list[ChatSummary]:
        """The caller's chats, the one with the newest message (or creation) first."""
        summaries = await self._repository.list_for(caller.user_id)
        summaries.sort(key=_activity, reverse=True)
        return summaries

    def activity_writes(self, chat: Chat, message: ChatMessage) -> list[Write]:
        """The writes that make `message` the chat's latest in its members' lists; the caller
        runs them with the message's own write."""
        return self._repository.touch(chat, message)


def _activity(summary: ChatSummary) -> datetime:
    return summary.last_activity or summary.created_at
