"""Request metrics: the shape of a service's metrics (`ServiceMetrics`), one pure-ASGI
middleware timing every request, labelled by one rule, and the Prometheus exposition of a
service's registry."""

import time
from typing import Any, ClassVar

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram
from prometheus_client.exposition import generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from http_kit.middleware import HttpMiddleware
from http_kit.routing import SlashTwinRoute

UNMATCHED = "unmatched"
REQUEST_LABELS = ("method", "route", "status")
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
"""Seconds; Prometheus's default buckets, written out so that every service keeps the same."""


class ServiceMetrics:
    """A service's metrics: one registry per app (so several apps can live in one test
    process) and the request histogram `<service>_http_request_duration_seconds`. A service
    subclasses it as `Metrics`, sets `service` and adds its own metrics to `registry`."""

    service: ClassVar[str]

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.requests = Histogram(
            f"{self.service}_http_request_duration_seconds",
            "HTTP request duration by method, route template and status.",
            REQUEST_LABELS,
            registry=self.registry,
            buckets=REQUEST_BUCKETS,
        )


def record_request_durations(app: FastAPI, durations: Histogram) -> None:
    """Times every HTTP request of `app` into `durations`, labelled `REQUEST_LABELS`. Added
    after the request-size caps, it sits outside them and also times their 413s and 431s."""
    app.add_middleware(RequestDurations, durations=durations)


def route_label(scope: Scope) -> str:
    """The route as the OpenAPI document writes it (without the app's prefix), never the raw
    path: `/v1/users/{user_id}` is one series, not one per user id, and a slash-less twin
    shares its documented route's series. Requests no route took are `unmatched`."""
    route: Any = scope.get("route")
    if isinstance(route, SlashTwinRoute):
        return route.documented_path
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class RequestDurations(HttpMiddleware):
    def __init__(self, app: ASGIApp, durations: Histogram) -> None:
        super().__init__(app)
        self._durations = durations

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before it answers

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_noting_status)
        finally:
            elapsed = time.perf_counter() - started
            labels = (scope["method"], route_label(scope), str(status))
            self._durations.labels(*labels).observe(elapsed)


def exposition(registry: CollectorRegistry) -> Response:
    """`GET /metrics`: the registry in Prometheus text format."""
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
