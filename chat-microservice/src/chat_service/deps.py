"""FastAPI dependencies: the services built in the lifespan, and the caller's raw token."""

from typing import Annotated

from fastapi import Depends, Request

from chat_service.chats.service import ChatService
from chat_service.messages.service import MessageService
from chat_service.settings import ChatSettings


def get_settings(request: Request) -> ChatSettings:
    settings: ChatSettings = request.app.state.settings
    return settings


def get_chat_service(request: Request) -> ChatService:
    service: ChatService = request.app.state.chat_service
    return service


def get_message_service(request: Request) -> MessageService:
    service: MessageService = request.app.state.message_service
    return service


def bearer_token(request: Request) -> str:
    """The caller's token, forwarded to the auth service. Only used after `CurrentUser`
    has verified it, so the header is known to be a well-formed bearer credential."""
    _, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip()


SettingsDep = Annotated[ChatSettings, Depends(get_settings)]
ChatServiceDep = Annotated[ChatService, Depends(get_chat_service)]
MessageServiceDep = Annotated[MessageService, Depends(get_message_service)]
BearerToken = Annotated[str, Depends(bearer_token)]
