"""Request bodies past the cap are refused with 413, and header lines past theirs with 431,
before anything parses them."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel

from http_kit import install_error_handlers, limit_request_bodies, limit_request_headers

LIMIT = 1024
HEADER_LIMIT = 2048


class Body(BaseModel):
    text: str


def build_app() -> tuple[FastAPI, list[str]]:
    app = FastAPI()
    install_error_handlers(app)
    limit_request_bodies(app, LIMIT)
    limit_request_headers(app, HEADER_LIMIT)
    seen: list[str] = []

    @app.post("/echo")
    def echo(body: Body) -> Body:
        seen.append(body.text)
        return body

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"length": len(await request.body())}

    return app, seen


@pytest.fixture
async def served() -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    app, seen = build_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, seen


def _json_of_length(length: int) -> bytes:
    frame = b'{"text": ""}'
    return frame[:-2] + b"x" * (length - len(frame)) + frame[-2:]


async def test_a_body_at_the_cap_is_served(served: tuple[httpx.AsyncClient, list[str]]) -> None:
    client, seen = served
    content = _json_of_length(LIMIT)
    response = await client.post(
        "/echo", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    assert len(seen[0]) == LIMIT - len(b'{"text": ""}')


@pytest.mark.parametrize("length", [LIMIT + 1, 10 * 1024 * 1024])
async def test_a_longer_body_is_413_and_reaches_no_endpoint(
    served: tuple[httpx.AsyncClient, list[str]], length: int
) -> None:
    client, seen = served
    response = await client.post(
        "/echo", content=_json_of_length(length), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "detail": f"The request body is larger than {LIMIT} bytes.",
        "code": "content_too_large",
    }
    assert seen == []


async def test_a_chunked_body_without_a_length_is_counted(
    served: tuple[httpx.AsyncClient, list[str]],
) -> None:
    client, _ = served

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * (LIMIT // 2)

    response = await client.post("/raw", content=chunks())
    assert "content-length" not in response.request.headers
    assert (response.status_code, response.json()["code"]) == (413, "content_too_large")


async def test_a_chunked_body_under_the_cap_arrives_whole(
    served: tuple[httpx.AsyncClient, list[str]],
) -> None:
    client, _ = served

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"x" * 100

    response = await client.post("/raw", content=chunks())
    assert (response.status_code, response.json()) == (200, {"length": 300})


def _header_lines(request: httpx.Request) -> int:
    return sum(len(name) + len(value) for name, value in request.headers.raw)


@pytest.mark.parametrize("excess", [0, 1, 1_000_000])
async def test_headers_past_their_cap_are_431_and_reach_no_endpoint(
    served: tuple[httpx.AsyncClient, list[str]], excess: int
) -> None:
    client, seen = served
    request = client.build_request("POST", "/echo", json={"text": "hi"})
    padding = HEADER_LIMIT - _header_lines(request) - len("x-padding") + excess
    request.headers["X-Padding"] = "p" * padding
    response = await client.send(request)
    if excess == 0:
        assert response.status_code == 200, response.text
        assert seen == ["hi"]
        return
    assert response.status_code == 431
    assert response.json() == {
        "detail": f"The request headers are larger than {HEADER_LIMIT} bytes.",
        "code": "request_header_fields_too_large",
    }
    assert seen == []
