"""Direct routes: a request to a direct route's method and path, parameters included, is
answered by its handler; what the handler hands over, and every other request, reaches the
app's own routes; an error the handler raises gets the app's error answer."""

import httpx
import pytest
from fastapi import FastAPI, Response
from starlette.types import Scope
from things_app import PREFIX, things_app

from http_kit import Conflict, SlashOptionalRouter, serve_directly


class Refused(Conflict):
    code = "refused"
    detail = "Refused."


async def answer_directly(scope: Scope, body: bytes) -> Response | None:
    thing = scope["path_params"]["thing"]
    if thing == "hand-over":
        return None
    if thing == "refuse":
        raise Refused()
    return Response(f"direct {thing} {body.decode()}", media_type="text/plain")


def build_app() -> FastAPI:
    app = things_app()
    router = SlashOptionalRouter()

    @router.post("/v1/things/{thing}/parts/")
    async def part(thing: str) -> str:
        return f"routed {thing}"

    @router.get("/v1/things/{thing}/parts/")
    async def parts(thing: str) -> str:
        return f"routed get {thing}"

    app.include_router(router, prefix=PREFIX)
    serve_directly(app, router, PREFIX, "POST", "/v1/things/{thing}/parts/", answer_directly)
    return app


@pytest.fixture
async def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=build_app())
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_the_handler_answers_its_path_with_the_parameters(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(f"{PREFIX}/v1/things/7/parts/", content=b"body")
    assert response.text == "direct 7 body"


@pytest.mark.parametrize(
    ("method", "path", "answer"),
    [
        ("POST", "/v1/things/hand-over/parts/", '"routed hand-over"'),
        ("POST", "/v1/things/7/parts", '"routed 7"'),  # the slash-less twin
        ("GET", "/v1/things/7/parts/", '"routed get 7"'),
    ],
)
async def test_other_requests_and_handed_over_ones_reach_the_route(
    client: httpx.AsyncClient, method: str, path: str, answer: str
) -> None:
    response = await client.request(method, PREFIX + path)
    assert (response.status_code, response.text) == (200, answer)


async def test_a_path_the_pattern_does_not_match_in_full_is_not_direct(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(f"{PREFIX}/v1/things/7/parts/extra/")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


async def test_an_error_the_handler_raises_is_the_apps_error_answer(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(f"{PREFIX}/v1/things/refuse/parts/")
    assert response.status_code == 409
    assert response.json() == {"detail": "Refused.", "code": "refused"}
