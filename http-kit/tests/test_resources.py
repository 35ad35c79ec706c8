"""The lifespan's resources reach endpoints through one typed dependency."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI

from http_kit import install_resources, resources_dependency


@dataclass(frozen=True)
class Resources:
    greeting: str


ResourcesDep = Annotated[Resources, Depends(resources_dependency(Resources))]


def build_app(*, install: bool) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if install:
            install_resources(app, Resources(greeting="hello"))
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/greeting")
    async def greeting(resources: ResourcesDep) -> str:
        return resources.greeting

    return app


async def get_greeting(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        return await client.get("/greeting")


async def test_endpoints_get_what_the_lifespan_installed() -> None:
    response = await get_greeting(build_app(install=True))
    assert response.json() == "hello"


async def test_missing_resources_fail_loudly() -> None:
    response = await get_greeting(build_app(install=False))
    assert response.status_code == 500
