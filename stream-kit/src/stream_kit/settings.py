"""The settings every stream service has: where Kafka is, how its consumer fetches, where the
probes listen, how it logs.

Each service extends `StreamSettings` with its own `env_prefix` (`AGGREGATOR_`,
`AGGREGATED_CONSUMER_`). `APP_ENV` and `KAFKA_BOOTSTRAP_SERVERS` are the same for the whole
stack and are also read without the prefix (`ServiceSettings.stack_variables`).
"""

from datetime import timedelta
from typing import Annotated, Any, ClassVar

from pydantic import Field

from service_settings import AppEnv, Duration, ServiceSettings

Port = Annotated[int, Field(ge=0, le=65535)]
"""A TCP port; 0 lets the system choose one (tests)."""


def milliseconds(value: timedelta) -> int:
    """A duration as the whole milliseconds Kafka client options take."""
    return int(value.total_seconds() * 1000)


class StreamSettings(ServiceSettings):
    """Kafka address and consumer options, probe address, logging.

    `input_topic` and `group_id` have no default here: each service names its own.
    """

    stack_variables: ClassVar[dict[str, str]] = {
        "app_env": "APP_ENV",
        "kafka_bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS",
    }

    app_env: AppEnv = AppEnv.DEVELOPMENT
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    input_topic: str
    group_id: str
    session_timeout: Duration = Field(timedelta(seconds=10), gt=timedelta(0))
    # A fetch waits up to `fetch_wait` for `fetch_min_bytes` of records: fewer, fuller
    # fetches, so fewer loop turns (and commits) per record when the stage batches anyway.
    fetch_wait: Duration = Field(timedelta(milliseconds=100), ge=timedelta(0))
    fetch_min_bytes: int = Field(64 * 1024, ge=1)

    http_host: str = "127.0.0.1"
    http_port: Port
    log_level: str = "INFO"

    @property
    def log_json(self) -> bool:
        return self.app_env is AppEnv.PRODUCTION

    def consumer_options(self, **extra: Any) -> dict[str, Any]:
        """`AIOKafkaConsumer` keyword arguments of a stage that commits its own offsets after
        writing to its sink, and reads committed records only."""
        return {
            "bootstrap_servers": self.kafka_bootstrap_servers,
            "group_id": self.group_id,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            # Records of an aborted transaction never reach us, nor those of an open one.
            "isolation_level": "read_committed",
            "session_timeout_ms": milliseconds(self.session_timeout),
            "fetch_max_wait_ms": milliseconds(self.fetch_wait),
            "fetch_min_bytes": self.fetch_min_bytes,
            **extra,
        }

    def producer_options(self, **extra: Any) -> dict[str, Any]:
        """`AIOKafkaProducer` keyword arguments: idempotent, acknowledged by every in-sync
        replica, so a broker retry never duplicates a record and a broker loss keeps it."""
        return {
            "bootstrap_servers": self.kafka_bootstrap_servers,
            "enable_idempotence": True,
            "acks": "all",
            **extra,
        }
