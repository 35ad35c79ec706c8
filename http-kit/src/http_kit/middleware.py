"""The base of the kit's plain-ASGI middleware (request-size caps, request timing): HTTP
requests go to `handle`, every other scope (the lifespan) passes straight through.

Plain ASGI rather than `BaseHTTPMiddleware`, which would add a task and a copy of the response
stream to every request on the send path."""

from starlette.types import ASGIApp, Receive, Scope, Send


class HttpMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """One HTTP request; `self._app` is the rest of the stack."""
        raise NotImplementedError
