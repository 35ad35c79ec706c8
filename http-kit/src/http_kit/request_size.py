"""Caps on request sizes: past them the answer is the shared 413 (body) or 431 (headers)
error, before anything parses the request."""

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from http_kit.errors import ContentTooLarge, HeadersTooLarge, render_error
from http_kit.middleware import HttpMiddleware


def limit_request_bodies(app: FastAPI, max_bytes: int) -> None:
    """Refuses bodies longer than `max_bytes` with 413 `content_too_large` (also listed in
    the OpenAPI document for every operation that takes a body)."""
    app.state.max_body_bytes = max_bytes
    app.add_middleware(BodySizeLimit, max_bytes=max_bytes)


def limit_request_headers(app: FastAPI, max_bytes: int) -> None:
    """Refuses requests whose header lines total more than `max_bytes` with 431
    `request_header_fields_too_large` (listed for every operation in the OpenAPI document).
    The HTTP server already holds them; the cap keeps a megabyte of token or cookie from
    reaching token checks, logs and metrics."""
    app.state.max_header_bytes = max_bytes
    app.add_middleware(HeaderSizeLimit, max_bytes=max_bytes)


class SizeLimit(HttpMiddleware):
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        super().__init__(app)
        self._max_bytes = max_bytes


class HeaderSizeLimit(SizeLimit):
    """Counts names and values of every header line, as servers that cap headers do."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        size = sum(len(name) + len(value) for name, value in scope["headers"])
        if size > self._max_bytes:
            error = HeadersTooLarge(f"The request headers are larger than {self._max_bytes} bytes.")
            await render_error(error)(scope, receive, send)
            return
        await self._app(scope, receive, send)


class BodySizeLimit(SizeLimit):
    """Reads the whole body before the app does, and stops at `max_bytes`: FastAPI would
    read it whole anyway, but without a bound, so a 10 MB body was held in memory and
    parsed before the schema said no."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self._max_bytes:
            await self._refuse(scope, receive, send)
            return
        body = await read_body(receive, self._max_bytes)
        if body is None:
            await self._refuse(scope, receive, send)
            return
        await self._app(scope, replay_body(body, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = ContentTooLarge(f"The request body is larger than {self._max_bytes} bytes.")
        await render_error(error)(scope, receive, send)


async def read_body(receive: Receive, limit: int | None) -> bytes | None:
    """The whole body, or None once it grows past `limit` (chunked bodies declare no
    length)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away; the app notices
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the app `body` (already read) in one message."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()  # only a disconnect can follow
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
