"""Prometheus metrics of the aggregator (one registry per process)."""

from stream_kit import StageMetrics


class AggregatorMetrics(StageMetrics):
    prefix = "aggregator"
    lag_help = "From a message's produce time to the commit of the burst that holds it."

    def declare(self) -> None:
        self.messages_in = self.counter("messages_in_total", "Messages read from the input topic.")
        self.replay_skipped = self.counter(
            "replay_skipped_total",
            "Re-read records skipped because they left in a committed transaction already.",
        )
        self.changes_applied = self.counter(
            "changes_applied_total",
            "Edits and deletions applied to a message still held in an open buffer.",
        )
        self.passed_on = self.counter(
            "passed_on_total",
            "Edits, deletions and read marks committed to the output topic, by kind.",
            ["kind"],
        )
        self.bursts_out = self.counter("bursts_out_total", "Bursts committed to the output topic.")
        self.messages_out = self.counter("messages_out_total", "Messages committed inside bursts.")
        self.flushes = self.counter(
            "flush_total", "Closed bursts by the reason they closed.", ["reason"]
        )
        self.open_buffers = self.gauge("open_buffers", "Buffers currently open (chat, sender).")
        self.transactions = self.counter(
            "transactions_total", "Kafka transactions by outcome.", ["outcome"]
        )
        self.burst_size = self.histogram(
            "burst_messages", "Messages per burst.", (1, 2, 3, 5, 8, 10, 15, 20, 50)
        )
