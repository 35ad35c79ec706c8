"""Prometheus metrics, one registry per app (so several apps can live in one test process)."""

import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Histogram(
            "auth_http_request_duration_seconds",
            "HTTP request duration by route template, method and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.signups = Counter(
            "auth_signups", "Sign-up attempts by outcome.", ["outcome"], registry=registry
        )
        self.logins = Counter(
            "auth_logins", "Login attempts by outcome.", ["outcome"], registry=registry
        )

    def exposition(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    async def observe_request(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        # The route template, not the raw path: `/v1/users/{user_id}` is one series, not one
        # per user id.
        # Slash-less twins share their route's series.
        route = getattr(request.scope.get("route"), "path", "unmatched").rstrip("/") or "/"
        self.requests.labels(request.method, route, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response
