"""Prometheus metrics of one app instance: the shared request histogram, 503s by dependency
and the rate limits' fallback to memory."""

from prometheus_client import CollectorRegistry, Counter, Gauge

from http_kit import ServiceMetrics


class Metrics(ServiceMetrics):
    service = "chat"

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        super().__init__(registry)
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
