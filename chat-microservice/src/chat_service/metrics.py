"""Prometheus metrics of one app instance (its own registry, so test apps don't collide)."""

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


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
        self.rate_limit_fallback = Gauge(
            "chat_rate_limit_fallback",
            "1 while sends are counted in this process's memory because the shared "
            "rate-limit store (Redis) does not answer; 0 while they are counted there.",
            registry=self.registry,
        )
        self.rate_limit_store_outages = Counter(
            "chat_rate_limit_store_outages_total",
            "Times the rate-limit store stopped answering and sends fell back to memory.",
            registry=self.registry,
        )


class MetricsMiddleware:
    """Times every HTTP request. Plain ASGI rather than `BaseHTTPMiddleware`, which would
    add a task and a stream copy to every request on the send path."""

    def __init__(self, app: ASGIApp, metrics: ChatMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_and_note_status)
        finally:
            # The route template, not the raw path: chat ids would explode the label set.
            route = str(getattr(scope.get("route"), "path", "unmatched"))
            self._metrics.requests.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - started
            )
