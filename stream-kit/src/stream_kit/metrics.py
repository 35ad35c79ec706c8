"""The shape of a stream stage's metrics: one registry per process, every name prefixed with
the stage (`aggregator_`, `consumer_`), and what both stages export: the end-to-end lag
histogram and the count of dead letters by reason.

A stage subclasses `StageMetrics`, sets `prefix` and `lag_help`, and declares its own counters
in `declare` through `counter`, `gauge` and `histogram`.
"""

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LAG_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 7.5, 10, 20, 60)
"""Seconds; bursts wait seconds by design, so the buckets are dense between 1 and 5."""


@dataclass
class StageMetrics:
    prefix: ClassVar[str]
    lag_help: ClassVar[str]
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.lag = self.histogram("end_to_end_lag_seconds", self.lag_help, LAG_BUCKETS)
        self.dead_letters = self.counter(
            "dead_letters_total",
            "Records sent to the dead-letter topic, by the reason they were refused.",
            ["reason"],
        )
        self.declare()

    def declare(self) -> None:
        """The stage's own metrics, declared on its registry (the lag histogram and the dead
        letters are there already, whatever a stage declares)."""

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(self._name(name), documentation, labels, registry=self.registry)

    def gauge(self, name: str, documentation: str) -> Gauge:
        return Gauge(self._name(name), documentation, registry=self.registry)

    def histogram(self, name: str, documentation: str, buckets: Sequence[float]) -> Histogram:
        return Histogram(self._name(name), documentation, buckets=buckets, registry=self.registry)

    def observe_lag(self, sent: Iterable[datetime]) -> None:
        """One lag sample per message: from its send time to now (wall clock, like the send
        time). A sender's clock running ahead is counted as no lag, not a negative one."""
        now = time.time()
        for moment in sent:
            self.lag.observe(max(0.0, now - moment.timestamp()))

    def _name(self, name: str) -> str:
        return f"{self.prefix}_{name}"
