"""FastAPI dependencies: the services built in the lifespan, and the caller's raw token.

They are `async def` although they never await: FastAPI runs plain `def` dependencies in a
worker thread, a hop that costs more than the lookups themselves on every request.
"""

from typing import Annotated

from fastapi import Depends, Request

from chat_service.chats.service import ChatService
from chat_service.messages.service import MessageService
from chat_service.settings import ChatSettings


async def get_settings(request: Request) -> ChatSettings:
    settings: ChatSettings = request.app.state.settings
    return settings


async def get_chat_service(request: Request) -> ChatService:
    service: ChatService = request.app.state.chat_service
    return service


async def get_message_service(request: Request) -> MessageService:
    service: MessageService = request.app.state.message_service
    return service


async def bearer_token(request: Request) -> str:
    """The caller's token, forwarded to the auth service. Only used after `CurrentUser`
    has verified it, so the header is known to be a well-formed bearer credential."""
    _, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip()


SettingsDep = Annotated[ChatSettings, Depends(get_settings)]
ChatServiceDep = Annotated[ChatService, Depends(get_chat_service)]
MessageServiceDep = Annotated[MessageService, Depends(get_message_service)]
BearerToken = Annotated[str, Depends(bearer_token)]
