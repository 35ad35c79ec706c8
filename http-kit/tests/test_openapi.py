"""The OpenAPI document shows the error shapes the handlers render."""

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from http_kit import (
    NotFound,
    error_response,
    install_error_handlers,
    limit_request_bodies,
    limit_request_headers,
)


class Body(BaseModel):
    name: str


def build_app(max_body_bytes: int | None = None, max_header_bytes: int | None = None) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    if max_body_bytes is not None:
        limit_request_bodies(app, max_body_bytes)
    if max_header_bytes is not None:
        limit_request_headers(app, max_header_bytes)

    @app.get("/things/{thing_id}", responses={404: error_response("thing_not_found", "No such.")})
    def read(thing_id: int) -> Body:
        raise NotFound(code="thing_not_found")

    @app.post("/things")
    def create(body: Body) -> Body:
        return body

    @app.get("/plain")
    def plain() -> Body:
        return Body(name="x")

    return app


def _responses(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    responses: dict[str, Any] = document["paths"][path][method]["responses"]
    return responses


def _schema(response: dict[str, Any]) -> str:
    ref: str = response["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


def test_listed_errors_are_error_bodies_with_their_code_as_example() -> None:
    document = build_app().openapi()
    not_found = _responses(document, "get", "/things/{thing_id}")["404"]
    assert _schema(not_found) == "ErrorBody"
    example = not_found["content"]["application/json"]["example"]
    assert example == {"detail": "No such.", "code": "thing_not_found"}
    assert document["components"]["schemas"]["ErrorBody"]["required"] == ["detail", "code"]


def test_a_422_is_fastapis_validation_error_with_its_code() -> None:
    document = build_app().openapi()
    assert _schema(_responses(document, "get", "/things/{thing_id}")["422"]) == (
        "HTTPValidationError"
    )
    validation = document["components"]["schemas"]["HTTPValidationError"]
    assert validation["properties"]["detail"]["type"] == "array"
    assert validation["properties"]["code"]["type"] == "string"
    assert "422" not in _responses(document, "get", "/plain")


def test_a_body_cap_is_documented_on_operations_that_take_a_body() -> None:
    assert "413" not in _responses(build_app().openapi(), "post", "/things")
    document = build_app(max_body_bytes=2048).openapi()
    too_large = _responses(document, "post", "/things")["413"]
    assert _schema(too_large) == "ErrorBody"
    assert "2048 bytes" in too_large["description"]
    assert "413" not in _responses(document, "get", "/plain")


def test_the_document_is_built_once() -> None:
    app = build_app(max_body_bytes=2048)
    assert app.openapi() is app.openapi()


def test_a_header_cap_lists_its_431_on_every_operation() -> None:
    assert "431" not in _responses(build_app().openapi(), "get", "/plain")
    document = build_app(max_header_bytes=4096).openapi()
    for method, path in (("get", "/plain"), ("post", "/things"), ("get", "/things/{thing_id}")):
        too_large = _responses(document, method, path)["431"]
        assert _schema(too_large) == "ErrorBody"
        assert "4096 bytes" in too_large["description"]
