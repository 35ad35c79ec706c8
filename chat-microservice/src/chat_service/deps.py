"""FastAPI dependencies: what the lifespan built (`Resources`), and the caller's raw token.

They are `async def` although they never await: FastAPI runs plain `def` dependencies in a
worker thread, a hop that costs more than the lookups themselves on every request.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from chat_service.chats.service import ChatList, ChatService
from chat_service.messages.service import MessageService
from chat_service.metrics import Metrics
from chat_service.reads.service import ReadService
from http_kit import ReadinessProbe, resources_dependency


@dataclass(frozen=True)
class Resources:
    """The long-lived services the lifespan builds; installed as the app's resources."""

    metrics: Metrics
    chats: ChatService
    chat_list: ChatList
    messages: MessageService
    reads: ReadService
    readiness_probes: Mapping[str, ReadinessProbe]


get_resources = resources_dependency(Resources)
ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_chat_service(resources: ResourcesDep) -> ChatService:
    return resources.chats


async def get_chat_list(resources: ResourcesDep) -> ChatList:
    return resources.chat_list


async def get_message_service(resources: ResourcesDep) -> MessageService:
    return resources.messages


async def get_read_service(resources: ResourcesDep) -> ReadService:
    return resources.reads


async def get_metrics(resources: ResourcesDep) -> Metrics:
    return resources.metrics


async def get_readiness_probes(resources: ResourcesDep) -> Mapping[str, ReadinessProbe]:
    return resources.readiness_probes


async def bearer_token(request: Request) -> str:
    """The caller's token, forwarded to the auth service. Only used after `CurrentUser`
    has verified it, so the header is known to be a well-formed bearer credential."""
    _, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip()


ChatServiceDep = Annotated[ChatService, Depends(get_chat_service)]
ChatListDep = Annotated[ChatList, Depends(get_chat_list)]
MessageServiceDep = Annotated[MessageService, Depends(get_message_service)]
ReadServiceDep = Annotated[ReadService, Depends(get_read_service)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
ReadinessProbesDep = Annotated[Mapping[str, ReadinessProbe], Depends(get_readiness_probes)]
BearerToken = Annotated[str, Depends(bearer_token)]
