"""Prometheus metrics of the aggregator (one registry per process)."""

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class AggregatorMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.messages_in = Counter(
            "aggregator_messages_in_total", "Messages read from the input topic.", registry=r
        )
        self.replay_skipped = Counter(
            "aggregator_replay_skipped_total",
            "Re-read messages skipped because a committed burst already holds them.",
            registry=r,
        )
        self.poison = Counter(
            "aggregator_poison_messages_total",
            "Input records that are not a message event.",
            registry=r,
        )
        self.bursts_out = Counter(
            "aggregator_bursts_out_total", "Bursts committed to the output topic.", registry=r
        )
        self.messages_out = Counter(
            "aggregator_messages_out_total", "Messages committed inside bursts.", registry=r
        )
        self.flushes = Counter(
            "aggregator_flush_total",
            "Closed bursts by the reason they closed.",
            ["reason"],
            registry=r,
        )
        self.open_buffers = Gauge(
            "aggregator_open_buffers", "Buffers currently open (chat, sender).", registry=r
        )
        self.transactions = Counter(
            "aggregator_transactions_total",
            "Kafka transactions by outcome.",
            ["outcome"],
            registry=r,
        )
        self.burst_size = Histogram(
            "aggregator_burst_messages",
            "Messages per burst.",
            buckets=(1, 2, 3, 5, 8, 10, 15, 20, 50),
            registry=r,
        )
        self.lag = Histogram(
            "aggregator_end_to_end_lag_seconds",
            "From a message's produce time to the commit of the burst that holds it.",
            buckets=(0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 7.5, 10, 20, 60),
            registry=r,
        )
