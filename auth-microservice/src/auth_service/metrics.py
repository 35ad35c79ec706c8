"""Prometheus metrics, one registry per app (so several apps can live in one test process)."""

from prometheus_client import CollectorRegistry, Counter, Histogram

from http_kit.metrics import REQUEST_LABELS


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Histogram(
            "auth_http_request_duration_seconds",
            "HTTP request duration by route template, method and status.",
            REQUEST_LABELS,
            registry=registry,
        )
        self.signups = Counter(
            "auth_signups", "Sign-up attempts by outcome.", ["outcome"], registry=registry
        )
        self.logins = Counter(
            "auth_logins", "Login attempts by outcome.", ["outcome"], registry=registry
        )
