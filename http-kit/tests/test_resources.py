"""The lifespan's resources reach endpoints through one typed dependency."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI

from http_kit import install_resources, resource, resources_dependency


@dataclass(frozen=True)
class Resources:
    greeting: str
    farewell: str = "bye"


ResourcesDep = Annotated[Resources, Depends(resources_dependency(Resources))]
FarewellDep = Annotated[str, Depends(resource(Resources, "farewell"))]


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

    @app.get("/farewell")
    async def farewell(farewell: FarewellDep) -> str:
        return farewell

    return app


async def get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        return await client.get(path)


async def test_endpoints_get_what_the_lifespan_installed() -> None:
    app = build_app(install=True)
    assert (await get(app, "/greeting")).json() == "hello"
    assert (await get(app, "/farewell")).json() == "bye"


async def test_missing_resources_fail_loudly() -> None:
    app = build_app(install=False)
    assert (await get(app, "/greeting")).status_code == 500
    assert (await get(app, "/farewell")).status_code == 500


def test_a_misspelt_resource_fails_when_the_dependency_is_declared() -> None:
    with pytest.raises(AttributeError, match="Resources has no field 'farwell'"):
        resource(Resources, "farwell")
    with pytest.raises(TypeError, match="str is not a dataclass"):
        resource(str, "upper")
