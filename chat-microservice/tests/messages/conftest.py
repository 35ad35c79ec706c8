"""What the tests of the direct routes share."""

from collections.abc import Awaitable, Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI, Request

from chat_service.deps import MessageServiceDep
from chat_service.messages.service import MessageService


@pytest.fixture
def routed(client: httpx.AsyncClient) -> Iterator[list[str]]:
    """The paths of the requests that reached a FastAPI route of the message service (its
    dependency), in order: a request a direct handler answers is not among them."""
    app: FastAPI = client._transport.app  # type: ignore[attr-defined]
    (marker,) = MessageServiceDep.__metadata__
    dependency: Callable[[Request], Awaitable[MessageService]] = marker.dependency
    paths: list[str] = []

    async def recording(request: Request) -> MessageService:
        paths.append(request.url.path)
        return await dependency(request)

    app.dependency_overrides[dependency] = recording
    yield paths
    app.dependency_overrides.pop(dependency)
