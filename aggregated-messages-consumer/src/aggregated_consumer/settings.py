"""Consumer settings: `CONSUMER_` variables, plus the stack's unprefixed addresses."""

from datetime import timedelta

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from chat_events import CHAT_MESSAGES_DEAD_LETTER, CHAT_MESSAGES_GROUPED
from service_settings import AppEnv, Duration


class ConsumerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSUMER_", populate_by_name=True)

    app_env: AppEnv = Field(
        AppEnv.DEVELOPMENT, validation_alias=AliasChoices("CONSUMER_APP_ENV", "APP_ENV")
    )
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092",
        validation_alias=AliasChoices(
            "CONSUMER_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"
        ),
    )
    input_topic: str = CHAT_MESSAGES_GROUPED
    dead_letter_topic: str = CHAT_MESSAGES_DEAD_LETTER
    group_id: str = "aggregated-consumer"
    session_timeout: Duration = timedelta(seconds=10)

    firebase_project: str = Field(
        "demo-chat",
        validation_alias=AliasChoices("CONSUMER_FIREBASE_PROJECT", "GOOGLE_CLOUD_PROJECT"),
    )
    firestore_emulator_host: str | None = Field(
        None,
        validation_alias=AliasChoices(
            "CONSUMER_FIRESTORE_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST"
        ),
    )
    # A fetch waits up to `fetch_wait` for `fetch_min_bytes` of bursts: fuller batched
    # Firestore commits and fewer fetches per burst.
    fetch_wait: Duration = timedelta(milliseconds=100)
    fetch_min_bytes: int = Field(64 * 1024, ge=1)
    batch_size: int = Field(50, ge=1, le=500)
    """Bursts per Firestore batched commit (Firestore accepts at most 500 writes per batch)."""
    retention: Duration = timedelta(days=30)
    """`expire_at` = now + retention, for a Firestore TTL policy on that field."""
    write_timeout: Duration = timedelta(seconds=10)
    """Deadline of one Firestore call (a batched commit, the readiness read)."""
    max_attempts: int = Field(5, ge=1)
    retry_initial: Duration = timedelta(milliseconds=200)
    retry_max: Duration = timedelta(seconds=5)

    http_host: str = "127.0.0.1"
    http_port: int = 9102
    log_level: str = "INFO"

    @property
    def log_json(self) -> bool:
        return self.app_env is AppEnv.PRODUCTION
