"""FastAPI dependencies: what the lifespan built (`Resources`), and the caller's raw token.

They are `async def` although they never await: FastAPI runs plain `def` dependencies in a
worker thread, a hop that costs more than the lookups themselves on every request.
`http_kit.resource` makes each field getter so.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from chat_service.chats.service import ChatList, ChatService
from chat_service.messages.service import MessageService
from chat_service.metrics import Metrics
from chat_service.reads.service import ReadService
from http_kit import ReadinessProbe, resource


@dataclass(frozen=True)
class Resources:
    """The long-lived services the lifespan builds; installed as the app's resources."""

    metrics: Metrics
    chats: ChatService
    chat_list: ChatList
    messages: MessageService
    reads: ReadService
    readiness_probes: Mapping[str, ReadinessProbe]


async def bearer_token(request: Request) -> str:
    """The caller's token, forwarded to the auth service. Only used after `CurrentUser`
    has verified it, so the header is known to be a well-formed bearer credential."""
    _, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip()


ChatServiceDep = Annotated[ChatService, Depends(resource(Resources, "chats"))]
ChatListDep = Annotated[ChatList, Depends(resource(Resources, "chat_list"))]
MessageServiceDep = Annotated[MessageService, Depends(resource(Resources, "messages"))]
ReadServiceDep = Annotated[ReadService, Depends(resource(Resources, "reads"))]
BearerToken = Annotated[str, Depends(bearer_token)]
