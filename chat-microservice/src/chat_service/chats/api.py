"""HTTP endpoints for chats."""

import uuid

from fastapi import Response, status

from auth_validator import CurrentUser
from chat_service.chats.schemas import Chat, ChatCreate, ChatSummary
from chat_service.deps import BearerToken, ChatListDep, ChatServiceDep
from chat_service.errors import ERRORS
from http_kit import SlashOptionalRouter

router = SlashOptionalRouter(prefix="/v1/chat", tags=["chats"])


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS.responses(
        401, 403, 404, 503, ok=(Chat, "The chat of this pair already existed.")
    ),
)
async def create_chat(
    new_chat: ChatCreate,
    caller: CurrentUser,
    token: BearerToken,
    chats: ChatServiceDep,
    response: Response,
) -> Chat:
    """Open the chat between two users (201), or get the existing one for the pair (200)."""
    created, chat = await chats.open_chat(caller, token, new_chat)
    if not created:
        response.status_code = status.HTTP_200_OK
    return chat


@router.get("/", responses=ERRORS.responses(401, 503))
async def list_chats(caller: CurrentUser, chats: ChatListDep) -> list[ChatSummary]:
    """The caller's chats, newest activity first, each with its latest message (or null),
    the caller's read mark and the number of messages waiting unread."""
    return await chats.chats_of(caller)


@router.get("/{chat_id}", responses=ERRORS.responses(401, 403, 404, 503))
async def get_chat(chat_id: uuid.UUID, caller: CurrentUser, chats: ChatServiceDep) -> Chat:
    """One chat, for its members only."""
    return await chats.chat_for_member(caller, chat_id)
