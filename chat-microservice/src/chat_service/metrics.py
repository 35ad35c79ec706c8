"""Prometheus metrics of one app instance (its own registry, so test apps don't collide)."""

import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram


class ChatMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "chat_http_request_duration_seconds",
            "HTTP request latency by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.unavailable = Counter(
            "chat_dependency_unavailable_total",
            "Requests answered 503 because a dependency failed.",
            ["dependency"],
            registry=self.registry,
        )

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        self.requests.labels(request.method, _route_of(request), str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response


def _route_of(request: Request) -> str:
    # The path template, not the raw path: chat ids would explode the label set.
    route = request.scope.get("route")
    return str(getattr(route, "path", "unmatched"))
