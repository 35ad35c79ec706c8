"""The shared error rendering: every error is `{"detail", "code"}`, a 422 keeps FastAPI's
list of problems, and nothing internal leaks."""

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from http_kit import ApiError, Conflict, InvalidInput, RateLimited, install_error_handlers


class Body(BaseModel):
    name: str = Field(min_length=3)


class Teapot(ApiError):
    status_code = 418
    code = "teapot"
    detail = "I am a teapot."


def build_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/me")
    def me() -> dict[str, str]:
        return {}

    @app.post("/echo")
    def echo(body: Body) -> Body:
        return body

    @app.get("/teapot")
    def teapot() -> None:
        raise Teapot()

    @app.get("/conflict")
    def conflict() -> None:
        raise Conflict("Username already taken.", code="username_taken")

    @app.get("/limited")
    def limited() -> None:
        raise RateLimited(retry_after_seconds=17)

    @app.get("/rule")
    def rule() -> None:
        raise InvalidInput("to must be someone else.", loc=("body", "to"))

    @app.get("/http")
    def http() -> None:
        raise HTTPException(status_code=403, detail="nope")

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    return app


@pytest.fixture
async def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=build_app(), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_api_error_subclass_renders_detail_and_code(client: httpx.AsyncClient) -> None:
    response = await client.get("/teapot")
    assert (response.status_code, response.json()) == (
        418,
        {"detail": "I am a teapot.", "code": "teapot"},
    )
    response = await client.get("/conflict")
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "Username already taken.", "code": "username_taken"},
    )


async def test_rate_limited_carries_retry_after(client: httpx.AsyncClient) -> None:
    response = await client.get("/limited")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "17"
    assert response.json()["code"] == "rate_limited"


async def test_framework_http_errors_get_a_code(client: httpx.AsyncClient) -> None:
    assert (await client.get("/http")).json() == {"detail": "nope", "code": "forbidden"}
    missing = await client.get("/no-such-path")
    assert (missing.status_code, missing.json()) == (
        404,
        {"detail": "Not Found", "code": "not_found"},
    )
    wrong_method = await client.delete("/me")
    assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, "method_not_allowed")


async def test_validation_errors_keep_fastapi_shape(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", json={"name": "x"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert [error["loc"] for error in body["detail"]] == [["body", "name"]]
    assert body["detail"][0]["type"] == "string_too_short"


async def test_unexpected_errors_are_500_without_internals(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error.", "code": "internal_error"}
    assert "secret" not in response.text


async def test_validation_error_echoing_a_lone_surrogate_is_still_a_422(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/echo", content=b'{"name": "\\udc80"}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_a_refused_rule_is_a_422_in_the_validation_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/rule")
    assert (response.status_code, response.json()) == (
        422,
        {
            "detail": [
                {
                    "type": "invalid_request",
                    "loc": ["body", "to"],
                    "msg": "to must be someone else.",
                }
            ],
            "code": "invalid_request",
        },
    )


@pytest.mark.parametrize(
    "raw_body",
    [b'{"name": "\xff\xfe"}', b"[" * 100_000 + b"]" * 100_000, b"\x00\x01"],
    ids=["not_utf8", "nested_past_the_parser", "binary"],
)
async def test_a_body_the_parser_cannot_read_is_a_422_not_a_400(
    client: httpx.AsyncClient, raw_body: bytes
) -> None:
    response = await client.post(
        "/echo", content=raw_body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert [problem["loc"][0] for problem in body["detail"]] == ["body"]


async def test_a_400_raised_on_purpose_stays_a_400() -> None:
    app = build_app()

    @app.get("/bad")
    def bad() -> None:
        raise HTTPException(status_code=400, detail="Bad on purpose.")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as own:
        response = await own.get("/bad")
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "Bad on purpose.", "code": "bad_request"},
    )
