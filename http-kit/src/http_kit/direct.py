"""Direct routes: a hot operation answered without FastAPI's routing, dependency injection
and request parsing layers, with the same answers (docs/performance.md, "Direct routes").

A direct handler is given the request's scope (with its `path_params`, as strings, when the
route's path has parameters) and whole body, and answers with a `Response`, or with None to
hand the request to the app as usual (with its body). It hands over whatever it does not
handle itself before it has changed anything, such as a missing or bad token or a body or
parameter its model refuses, so that FastAPI writes those answers (401, 422) exactly as the
route documents them. An exception it raises is rendered by the app's exception handlers,
as a route's would be.

The operation stays a FastAPI route: its OpenAPI document, its slash-less twin and any
request the handler hands over go through it. `DirectRoutes` sits inside the request-size
caps and the request metrics, and labels a request it answers with that route, so the caps,
the metrics and their series are the same whichever way a request is answered.
"""

import inspect
import re
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute, APIRouter
from starlette.middleware import Middleware
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from http_kit.request_size import read_body, replay_body

DirectHandler = Callable[[Scope, bytes], Awaitable[Response | None]]


def serve_directly(
    app: FastAPI,
    router: APIRouter,
    prefix: str,
    method: str,
    path: str,
    handler: DirectHandler,
) -> None:
    """Answers `method prefix+path` with `handler` first, where `path` is a route of `router`
    (included in `app` under `prefix`). Call before the app serves."""
    matches = [
        route
        for route in router.routes
        if type(route) is APIRoute and route.path == path and method in (route.methods or ())
    ]
    if len(matches) != 1:
        raise LookupError(f"no single route {method} {path} to serve directly")
    table: DirectRouteTable | None = getattr(app.state, "direct_routes", None)
    if table is None:
        table = app.state.direct_routes = DirectRouteTable()
        # Innermost: inside the caps and the metrics, which `add_middleware` put outside.
        app.user_middleware.append(Middleware(DirectRoutes, table=table))
    table.add(method, prefix + path, matches[0], handler)


class DirectRouteTable:
    """The direct routes of an app: paths without parameters by a dictionary lookup, the
    others by their pattern, compiled as Starlette's router compiles it."""

    def __init__(self) -> None:
        self._plain: dict[tuple[str, str], tuple[APIRoute, DirectHandler]] = {}
        self._patterns: list[tuple[str, re.Pattern[str], APIRoute, DirectHandler]] = []

    def add(self, method: str, path: str, route: APIRoute, handler: DirectHandler) -> None:
        pattern, _, parameters = compile_path(path)
        if parameters:
            self._patterns.append((method, pattern, route, handler))
        else:
            self._plain[method, path] = (route, handler)

    def match(
        self, method: str, path: str
    ) -> tuple[APIRoute, DirectHandler, dict[str, str]] | None:
        """The route, its handler and the path's parameters; None when no route is direct."""
        plain = self._plain.get((method, path))
        if plain is not None:
            return (*plain, {})
        for route_method, pattern, route, handler in self._patterns:
            found = pattern.match(path) if route_method == method else None
            if found is not None:
                return route, handler, found.groupdict()
        return None


class DirectRoutes:
    def __init__(self, app: ASGIApp, table: DirectRouteTable) -> None:
        self._app = app
        self._table = table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        direct = (
            self._table.match(scope["method"], scope["path"]) if scope["type"] == "http" else None
        )
        if direct is None:
            await self._app(scope, receive, send)
            return
        route, handler, parameters = direct
        body = await read_body(receive, limit=None)
        assert body is not None  # no limit: the caps outside have applied theirs
        scope["path_params"] = parameters
        try:
            response = await handler(scope, body)
        except Exception as error:
            response = await _rendered(scope["app"], scope, receive, error)
        if response is None:
            await self._app(scope, replay_body(body, receive), send)
            return
        scope["route"] = route  # the metrics' label, as if the router had matched it
        await response(scope, receive, send)


async def _rendered(app: FastAPI, scope: Scope, receive: Receive, error: Exception) -> Response:
    """The answer the app's exception handlers give `error` (picked by its class hierarchy,
    as Starlette picks them); re-raised when none applies."""
    for kind in type(error).__mro__:
        handler = app.exception_handlers.get(kind)
        if handler is not None:
            response = handler(Request(scope, receive), error)
            if inspect.isawaitable(response):
                response = await response
            assert isinstance(response, Response)
            return response
    raise error
