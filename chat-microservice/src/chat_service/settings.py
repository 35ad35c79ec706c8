"""Every knob of the chat service, read from `CHAT_*` environment variables."""

import re
from datetime import timedelta
from enum import StrEnum
from typing import Any, ClassVar, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from auth_validator import TokenServiceSettings
from chat_events import CHAT_MESSAGES
from service_settings import AppEnv, Duration, contact_points

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


class Consistency(StrEnum):
    """Cassandra consistency levels accepted in settings (the driver's names for them)."""

    ONE = "ONE"
    LOCAL_ONE = "LOCAL_ONE"
    QUORUM = "QUORUM"
    LOCAL_QUORUM = "LOCAL_QUORUM"
    EACH_QUORUM = "EACH_QUORUM"
    ALL = "ALL"
    SERIAL = "SERIAL"
    LOCAL_SERIAL = "LOCAL_SERIAL"


class ChatSettings(TokenServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CHAT_")

    stack_variables: ClassVar[dict[str, str]] = {
        **TokenServiceSettings.stack_variables,
        "cassandra_hosts": "CASSANDRA_HOSTS",
        "kafka_bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS",
    }

    cassandra_hosts: str = "127.0.0.1:9042"
    keyspace: str = "chat"
    # The keyspace's replication map, as CQL expects it; a JSON object in the environment.
    replication: dict[str, Any] = Field(
        default_factory=lambda: {"class": "SimpleStrategy", "replication_factor": 1}
    )
    # None picks ONE in development and test (single-node cluster), LOCAL_QUORUM otherwise.
    read_consistency: Consistency | None = None
    write_consistency: Consistency | None = None
    serial_consistency: Consistency = Consistency.LOCAL_SERIAL
    cassandra_timeout: Duration = timedelta(seconds=10)
    bucket_days: int = Field(10, ge=1, le=3650)

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    messages_topic: str = CHAT_MESSAGES
    kafka_timeout: Duration = timedelta(seconds=5)
    # How long the producer lets records gather before a request. Records sent while one
    # request is in flight gather into the next one anyway, so concurrent sends share requests
    # without a wait; a wait of 2 ms doubled a lone send's latency (docs/performance.md).
    kafka_linger: Duration = timedelta(0)

    auth_service_url: str = "http://127.0.0.1:8000"
    auth_timeout: Duration = timedelta(seconds=5)
    user_cache_ttl: Duration = timedelta(seconds=30)
    user_cache_size: int = Field(10_000, ge=1)

    send_rate_per_second: float = Field(5.0, gt=0)
    send_burst: int = Field(20, ge=1)
    repeat_body_limit: int = Field(5, ge=1)
    repeat_body_window: Duration = timedelta(seconds=30)
    # How long a `client_message_id` names its message: a retry within it gets the same
    # message back. Claims live in Redis for this long (about 150 bytes each), with a copy in
    # Cassandra (see messages/send_gate.py). At most one bucket long.
    claim_window: Duration = Field(timedelta(hours=24), gt=timedelta(0))
    # Edits and deletions per user and minute (one budget for both).
    change_rate_per_minute: int = Field(30, ge=1)
    # Read marks of one (user, chat) reach Cassandra and Kafka at most once per window; the
    # marks between are kept in Redis and the highest is written when the window ends.
    read_window: Duration = Field(timedelta(seconds=5), gt=timedelta(0))
    # How often each replica looks for read marks whose window has ended.
    read_flush_interval: Duration = Field(timedelta(seconds=1), gt=timedelta(0))
    # The pending read marks live under the rate limits' prefix too.
    rate_limit_prefix: str = "chat-limits"
    # Past the store's timeout a send is counted in this process's memory instead (see
    # rate_limits.py), so a stalled Redis adds at most `rate_limit_timeout` to a send.
    retry_after: Duration = timedelta(seconds=2)

    @field_validator("keyspace")
    @classmethod
    def _keyspace_is_identifier(cls, value: str) -> str:
        # The keyspace name is spliced into CQL (it cannot be a bind marker).
        if not _IDENTIFIER.match(value):
            raise ValueError("keyspace must be a lowercase CQL identifier")
        return value

    @model_validator(mode="after")
    def _claims_fit_a_bucket(self) -> Self:
        # A claim's copy is looked up in the bucket of now and the one before.
        if self.claim_window > timedelta(days=self.bucket_days):
            raise ValueError("CHAT_CLAIM_WINDOW must not be longer than CHAT_BUCKET_DAYS")
        return self

    @model_validator(mode="after")
    def _pick_consistency(self) -> Self:
        single_node = self.app_env in (AppEnv.DEVELOPMENT, AppEnv.TEST)
        default = Consistency.ONE if single_node else Consistency.LOCAL_QUORUM
        self.read_consistency = self.read_consistency or default
        self.write_consistency = self.write_consistency or default
        return self

    @property
    def cassandra_contact(self) -> tuple[list[str], int]:
        """Contact points and port parsed from `host[:port][,host[:port]...]`."""
        return contact_points(self.cassandra_hosts)

    @property
    def retry_after_seconds(self) -> int:
        return max(1, round(self.retry_after.total_seconds()))
