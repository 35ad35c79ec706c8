"""Every route answers with and without its trailing slash, with no redirect, and only the
spelling as written is documented."""

import httpx
import pytest
from fastapi import FastAPI

from http_kit import SlashOptionalRouter


def build_app() -> FastAPI:
    app = FastAPI(redirect_slashes=False)
    plain = SlashOptionalRouter()
    prefixed = SlashOptionalRouter(prefix="/v1/items")

    @plain.get("/health/")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @plain.post("/things")
    async def create() -> dict[str, str]:
        return {"created": "yes"}

    @prefixed.get("/")
    async def items() -> list[int]:
        return [1]

    app.include_router(plain, prefix="/api")
    app.include_router(prefixed, prefix="/api")
    return app


@pytest.fixture
async def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=build_app())
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/health/"),
        ("GET", "/api/health"),
        ("POST", "/api/things"),
        ("POST", "/api/things/"),
        ("GET", "/api/v1/items/"),
        ("GET", "/api/v1/items"),
    ],
)
async def test_both_spellings_answer_without_redirect(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == 200


def test_only_the_written_spelling_is_documented() -> None:
    paths = set(build_app().openapi()["paths"])
    assert paths == {"/api/health/", "/api/things", "/api/v1/items/"}


def test_the_root_of_a_router_without_prefix_has_no_empty_twin() -> None:
    router = SlashOptionalRouter()

    @router.get("/")
    async def root() -> None:
        return None

    assert [getattr(route, "path", None) for route in router.routes] == ["/"]
