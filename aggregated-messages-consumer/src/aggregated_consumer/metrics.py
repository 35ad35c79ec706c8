"""Prometheus metrics of the consumer (one registry per process)."""

from stream_kit import StageMetrics


class ConsumerMetrics(StageMetrics):
    prefix = "consumer"
    lag_help = "From a message's send time to the Firestore commit of its burst."

    def declare(self) -> None:
        self._documents = 0
        self._messages = 0
        self.records_in = self.counter(
            "records_in_total", "Records read from the grouped topic, by kind.", ["kind"]
        )
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
        self.firestore_writes = self.counter(
            "firestore_writes_total",
            "Firestore document writes, by the kind of record that caused them.",
            ["kind"],
        )
        self.firestore_reads = self.counter(
            "firestore_reads_total",
            "Firestore document reads as billed (a query that matches nothing costs one), "
            "by the kind of record that caused them.",
            ["kind"],
        )
        self.read_marks_behind = self.counter(
            "read_marks_behind_total",
            "Read marks not written: this process already wrote a later mark of that reader.",
        )
        self.changes = self.counter(
            "changes_total",
            "Edits and deletions by outcome: applied (a document changed), not_winning "
            "(every copy already held a state that wins), unmatched (no document holds it).",
            ["outcome"],
        )

    def record_written(self, documents: int, messages: int) -> None:
        self.documents_written.inc(documents)
        self.messages_written.inc(messages)
        # Counters have no public getter, so the ratio keeps its own running totals.
        self._documents += documents
        self._messages += messages
        if self._messages:
            self.documents_per_message.set(self._documents / self._messages)
