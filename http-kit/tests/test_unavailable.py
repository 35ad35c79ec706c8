"""A dependency that is down answers 503 `<name>_unavailable` with Retry-After."""

import httpx
from fastapi import FastAPI

from http_kit import Dependency, answer_unavailable, install_error_handlers

CACHE = Dependency("cache")
DATABASE = Dependency("database", "database is not reachable")


class CacheDown(Exception):
    pass


class CacheTimeout(CacheDown):
    pass


def build_app(seen: list[str]) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    answer_unavailable(app, {CacheDown: CACHE}, retry_after_seconds=3, on_unavailable=seen.append)

    @app.get("/cached")
    async def cached() -> None:
        raise CacheTimeout("no answer within 250 ms")

    @app.get("/stored")
    async def stored() -> None:
        raise DATABASE.unavailable(retry_after_seconds=0)

    return app


async def get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path)


async def test_a_drivers_failure_is_its_dependencys_503() -> None:
    seen: list[str] = []
    response = await get(build_app(seen), "/cached")
    assert response.status_code == 503
    assert response.json() == {
        "detail": "cache is unavailable; try again later.",
        "code": "cache_unavailable",
    }
    assert response.headers["Retry-After"] == "3"
    assert seen == ["cache"]


async def test_a_raised_unavailable_keeps_its_text_and_waits_at_least_a_second() -> None:
    response = await get(build_app([]), "/stored")
    assert response.status_code == 503
    assert response.json() == {
        "detail": "database is not reachable",
        "code": "database_unavailable",
    }
    assert response.headers["Retry-After"] == "1"
