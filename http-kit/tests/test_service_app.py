"""The app a service starts from: documents under its prefix (docs in both spellings), the
error shape, and the size caps documented on its operations."""

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from things_app import PREFIX, things_app

from http_kit import SlashOptionalRouter


class Thing(BaseModel):
    name: str


def build_app() -> FastAPI:
    app = things_app()
    router = SlashOptionalRouter()

    @router.post("/v1/things/")
    async def create(thing: Thing) -> Thing:
        return thing

    app.include_router(router, prefix=PREFIX)
    return app


@pytest.fixture
async def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=build_app())
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.mark.parametrize("path", [f"{PREFIX}/docs", f"{PREFIX}/docs/"])
async def test_docs_answer_in_both_spellings(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert f"{PREFIX}/openapi.json" in response.text


async def test_the_document_lists_the_caps_and_no_redirects_happen(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get(f"{PREFIX}/openapi.json")).json()
    responses = document["paths"][f"{PREFIX}/v1/things/"]["post"]["responses"]
    assert {"413", "422", "431"} <= set(responses)
    assert (await client.get("/things/api/nothing")).json()["code"] == "not_found"


async def test_bodies_past_the_cap_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{PREFIX}/v1/things", json={"name": "x" * 100})
    assert (response.status_code, response.json()["code"]) == (413, "content_too_large")
