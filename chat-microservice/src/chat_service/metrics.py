"""Prometheus metrics of one app instance (its own registry, so test apps don't collide)."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from http_kit.metrics import REQUEST_LABELS


class ChatMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "chat_http_request_duration_seconds",
            "HTTP request latency by route and status.",
            REQUEST_LABELS,
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
