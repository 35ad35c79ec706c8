"""The settings every stream service has: where Kafka is, how its consumer fetches, where the
probes listen, how it logs.

Each service extends `StreamSettings` with its own `env_prefix` (`AGGREGATOR_`, `CONSUMER_`).
A few values are the same for the whole stack and are also read without the prefix (see
`stack_variables`), so one `KAFKA_BOOTSTRAP_SERVERS` can serve every process of a deployment
while a prefixed variable still wins for one service.
"""

import os
from datetime import timedelta
from typing import Annotated, Any, ClassVar

from pydantic import Field
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from pydantic_settings.sources import PydanticBaseEnvSettingsSource

from service_settings import AppEnv, Duration

Port = Annotated[int, Field(ge=0, le=65535)]
"""A TCP port; 0 lets the system choose one (tests)."""


def milliseconds(value: timedelta) -> int:
    """A duration as the whole milliseconds Kafka client options take."""
    return int(value.total_seconds() * 1000)


class StackEnvSource(PydanticBaseEnvSettingsSource):
    """Reads the fields named in `stack_variables` from their unprefixed variables.

    It sits after the prefixed environment in the source order, so it only fills what the
    service's own variables left unset. (pydantic-settings does not put `env_prefix` in front
    of a `validation_alias`, so an `AliasChoices` of both names would have to be restated, with
    the prefix spelled out, in every service.)
    """

    def __init__(self, settings_cls: type[BaseSettings], variables: dict[str, str]) -> None:
        super().__init__(settings_cls)
        self._variables = variables

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        variable = self._variables.get(field_name)
        value = None if variable is None else os.environ.get(variable)
        return value, field_name, False


class StreamSettings(BaseSettings):
    """Kafka address and consumer options, probe address, logging.

    `input_topic` and `group_id` have no default here: each service names its own.
    """

    stack_variables: ClassVar[dict[str, str]] = {
        "app_env": "APP_ENV",
        "kafka_bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS",
    }
    """Field name -> unprefixed variable read when the prefixed one is unset. A subclass
    extends it (`{**StreamSettings.stack_variables, "firebase_project": ...}`)."""

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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        stack = StackEnvSource(settings_cls, cls.stack_variables)
        return init_settings, env_settings, stack, dotenv_settings, file_secret_settings

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
