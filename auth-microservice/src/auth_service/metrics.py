"""Prometheus metrics of one app instance: the shared request histogram, sign-ups, logins,
sessions."""

from prometheus_client import CollectorRegistry, Counter

from http_kit import ServiceMetrics


class Metrics(ServiceMetrics):
    service = "auth"

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        super().__init__(registry)
        self.signups = Counter(
            "auth_signups", "Sign-up attempts by outcome.", ["outcome"], registry=self.registry
        )
        self.logins = Counter(
            "auth_logins", "Login attempts by outcome.", ["outcome"], registry=self.registry
        )
        self.sessions = Counter(
            "auth_sessions",
            "Session events: started, refreshed, invalid, reused, logout, logout_all.",
            ["outcome"],
            registry=self.registry,
        )
