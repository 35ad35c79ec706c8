"""Aggregator settings: `AGGREGATOR_` variables on top of the stream kit's shared ones."""

import socket
from datetime import timedelta

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from aggregator.window import WindowPolicy
from chat_events import CHAT_MESSAGES, CHAT_MESSAGES_DEAD_LETTER, CHAT_MESSAGES_GROUPED
from service_settings import Duration
from stream_kit import Port, StreamSettings


def _default_transactional_id() -> str:
    # Stable across restarts of one replica: its restart fences the transactions of the
    # process it replaces (a zombie cannot commit any more once the new one has started).
    return f"aggregator-{socket.gethostname()}"


class AggregatorSettings(StreamSettings):
    model_config = SettingsConfigDict(env_prefix="AGGREGATOR_")

    input_topic: str = CHAT_MESSAGES
    output_topic: str = CHAT_MESSAGES_GROUPED
    dead_letter_topic: str = CHAT_MESSAGES_DEAD_LETTER
    """Input records no decoder accepts, committed in the same transaction as their offsets."""
    group_id: str = "aggregator"
    transactional_id: str = Field(default_factory=_default_transactional_id)
    transaction_timeout: Duration = timedelta(seconds=60)
    commit_timeout: Duration = timedelta(seconds=15)
    """How long a transaction (or its abort) may wait for the broker before its outcome counts
    as unknown and the producer is replaced. Below `transaction_timeout`, so the replacement,
    not the broker's timer, ends a transaction left open."""
    heartbeat_interval: Duration = timedelta(seconds=3)

    max_messages: int = Field(10, ge=1)
    idle_timeout: Duration = timedelta(seconds=3)
    max_latency: Duration = timedelta(seconds=5)
    """Zero turns the limit off (the original's policy: a steady stream never flushes)."""
    max_open_buffers: int = Field(10_000, ge=1)
    max_open_per_partition: int = Field(64, ge=1, le=80)
    commit_interval: Duration = timedelta(seconds=1)
    """How often offsets alone are committed when no burst closed (e.g. while replaying)."""
    transaction_interval: Duration = timedelta(milliseconds=200)
    """Bursts that close within this long after a transaction wait to leave together in the
    next one: a transaction per slice of time, not per fetch. Zero sends each turn's at once."""

    http_port: Port = 9101

    @field_validator("idle_timeout", "commit_interval", "commit_timeout")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be positive")
        return value

    @model_validator(mode="after")
    def _commit_timeout_below_transaction_timeout(self) -> "AggregatorSettings":
        if self.commit_timeout >= self.transaction_timeout:
            raise ValueError("commit_timeout must be shorter than transaction_timeout")
        return self

    def window_policy(self) -> WindowPolicy:
        latency = self.max_latency.total_seconds()
        return WindowPolicy(
            max_messages=self.max_messages,
            idle_timeout=self.idle_timeout.total_seconds(),
            max_latency=latency if latency > 0 else None,
            max_open_buffers=self.max_open_buffers,
            max_open_per_partition=self.max_open_per_partition,
        )
