"""Consumer settings: `AGGREGATED_CONSUMER_` variables on top of the stream kit's shared ones,
plus the Google variables every Firestore client of the stack reads."""

from datetime import timedelta
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chat_events import CHAT_MESSAGES_DEAD_LETTER, CHAT_MESSAGES_GROUPED
from service_settings import Duration
from stream_kit import Port, StreamSettings


class ConsumerSettings(StreamSettings):
    model_config = SettingsConfigDict(env_prefix="AGGREGATED_CONSUMER_")
    # The prefix follows the command's name (docs/architecture.md, "Names"); the former one
    # is still read, with a warning, until the next release.
    former_env_prefix: ClassVar[str | None] = "CONSUMER_"

    stack_variables: ClassVar[dict[str, str]] = {
        **StreamSettings.stack_variables,
        "firebase_project": "GOOGLE_CLOUD_PROJECT",
        "firestore_emulator_host": "FIRESTORE_EMULATOR_HOST",
    }

    input_topic: str = CHAT_MESSAGES_GROUPED
    dead_letter_topic: str = CHAT_MESSAGES_DEAD_LETTER
    group_id: str = "aggregated-consumer"

    firebase_project: str = "demo-chat"
    firestore_emulator_host: str | None = None
    batch_size: int = Field(50, ge=1, le=500)
    """Bursts per Firestore batched commit (Firestore accepts at most 500 writes per batch)."""
    retention: Duration = timedelta(days=30)
    """`expire_at` = now + retention, for a Firestore TTL policy on that field."""
    write_timeout: Duration = timedelta(seconds=10)
    """Deadline of one Firestore call (a batched commit, the readiness read)."""
    max_attempts: int = Field(5, ge=1)
    retry_initial: Duration = timedelta(milliseconds=200)
    retry_max: Duration = timedelta(seconds=5)

    http_port: Port = 9102
