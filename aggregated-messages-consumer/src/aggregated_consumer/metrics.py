"""Prometheus metrics of the consumer (one registry per process)."""

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class ConsumerMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self._documents = 0
        self._messages = 0
        r = self.registry
        self.bursts_in = Counter(
            "consumer_bursts_in_total", "Records read from the bursts topic.", registry=r
        )
        self.documents_written = Counter(
            "consumer_documents_written_total",
            "Firestore documents written (one per burst).",
            registry=r,
        )
        self.messages_written = Counter(
            "consumer_messages_written_total",
            "Chat messages inside the written documents.",
            registry=r,
        )
        self.documents_per_message = Gauge(
            "consumer_documents_per_message",
            "Firestore documents written per chat message since start (1.0 = no aggregation).",
            registry=r,
        )
        self.batch_commits = Counter(
            "consumer_firestore_commits_total",
            "Firestore batched commits by outcome.",
            ["outcome"],
            registry=r,
        )
        self.dead_letters = Counter(
            "consumer_dead_letters_total",
            "Records sent to the dead-letter topic.",
            ["reason"],
            registry=r,
        )
        self.lag = Histogram(
            "consumer_end_to_end_lag_seconds",
            "From a message's send time to the Firestore commit of its burst.",
            buckets=(0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 7.5, 10, 20, 60),
            registry=r,
        )

    def record_written(self, documents: int, messages: int) -> None:
        self.documents_written.inc(documents)
        self.messages_written.inc(messages)
        # Counters have no public getter, so the ratio keeps its own running totals.
        self._documents += documents
        self._messages += messages
        if self._messages:
            self.documents_per_message.set(self._documents / self._messages)
