"""Aggregator settings: `AGGREGATOR_` variables, plus the stack's unprefixed Kafka address."""

import socket
from datetime import timedelta

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aggregator.window import WindowPolicy
from chat_events import CHAT_MESSAGES, CHAT_MESSAGES_GROUPED
from service_settings import AppEnv, Duration


def _default_transactional_id() -> str:
    # Stable across restarts of one replica: its restart fences the transactions of the
    # process it replaces (a zombie cannot commit any more once the new one has started).
    return f"aggregator-{socket.gethostname()}"


class AggregatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGGREGATOR_", populate_by_name=True)

    app_env: AppEnv = Field(
        AppEnv.DEVELOPMENT, validation_alias=AliasChoices("AGGREGATOR_APP_ENV", "APP_ENV")
    )
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092",
        validation_alias=AliasChoices(
            "AGGREGATOR_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"
        ),
    )
    input_topic: str = CHAT_MESSAGES
    output_topic: str = CHAT_MESSAGES_GROUPED
    group_id: str = "aggregator"
    transactional_id: str = Field(default_factory=_default_transactional_id)
    transaction_timeout: Duration = timedelta(seconds=60)
    session_timeout: Duration = timedelta(seconds=10)
    heartbeat_interval: Duration = timedelta(seconds=3)

    max_messages: int = Field(10, ge=1)
    idle_timeout: Duration = timedelta(seconds=3)
    max_latency: Duration = timedelta(seconds=5)
    """Zero turns the limit off (the original's policy: a steady stream never flushes)."""
    max_open_buffers: int = Field(10_000, ge=1)
    max_open_per_partition: int = Field(64, ge=1, le=80)
    # A fetch waits up to `fetch_wait` for `fetch_min_bytes` of messages: fewer, fuller
    # fetches, so fewer loop turns and transactions per message (bursts wait seconds anyway).
    fetch_wait: Duration = timedelta(milliseconds=100)
    fetch_min_bytes: int = Field(64 * 1024, ge=1)
    commit_interval: Duration = timedelta(seconds=1)
    """How often offsets alone are committed when no burst closed (e.g. while replaying)."""

    http_host: str = "127.0.0.1"
    http_port: int = 9101
    log_level: str = "INFO"

    @field_validator("idle_timeout", "commit_interval")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be positive")
        return value

    @field_validator("max_latency")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("must be zero (no limit) or positive")
        return value

    @property
    def log_json(self) -> bool:
        return self.app_env is AppEnv.PRODUCTION

    def window_policy(self) -> WindowPolicy:
        latency = self.max_latency.total_seconds()
        return WindowPolicy(
            max_messages=self.max_messages,
            idle_timeout=self.idle_timeout.total_seconds(),
            max_latency=latency if latency > 0 else None,
            max_open_buffers=self.max_open_buffers,
            max_open_per_partition=self.max_open_per_partition,
        )
