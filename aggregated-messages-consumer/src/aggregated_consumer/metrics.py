"""Prometheus metrics of the consumer (one registry per process)."""

from dataclasses import dataclass

from stream_kit import StageMetrics


@dataclass
class ConsumerMetrics(StageMetrics):
    prefix = "consumer"
    lag_help = "From a message's send time to the Firestore commit of its burst."

    def __post_init__(self) -> None:
        super().__post_init__()
        self._documents = 0
        self._messages = 0
        self.bursts_in = self.counter("bursts_in_total", "Records read from the bursts topic.")
        self.documents_written = self.counter(
            "documents_written_total", "Firestore documents written (one per burst)."
        )
        self.messages_written = self.counter(
            "messages_written_total", "Chat messages inside the written documents."
        )
        self.documents_per_message = self.gauge(
            "documents_per_message",
            "Firestore documents written per chat message since start (1.0 = no aggregation).",
        )
        self.batch_commits = self.counter(
            "firestore_commits_total", "Firestore batched commits by outcome.", ["outcome"]
        )
        self.dead_letters = self.counter(
            "dead_letters_total", "Records sent to the dead-letter topic.", ["reason"]
        )

    def record_written(self, documents: int, messages: int) -> None:
        self.documents_written.inc(documents)
        self.messages_written.inc(messages)
        # Counters have no public getter, so the ratio keeps its own running totals.
        self._documents += documents
        self._messages += messages
        if self._messages:
            self.documents_per_message.set(self._documents / self._messages)
