"""Where the local infrastructure lives and listens; every value can come from the environment.

Ports and folders use the `DEVSTACK_` prefix. The unprefixed variables that the services read
(`DATABASE_URL`, `KAFKA_BOOTSTRAP_SERVERS`, `CASSANDRA_HOSTS`, `FIRESTORE_EMULATOR_HOST`,
`FIREBASE_AUTH_EMULATOR_HOST`, `REDIS_URL`) point at a server of your own instead: that piece
is then not started, only checked.
"""

from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from service_settings import contact_points

REPO_ROOT = Path(__file__).resolve().parents[3]


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "chat-devstack"


class StackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEVSTACK_", populate_by_name=True)

    state_dir: Path = REPO_ROOT / ".devstack"
    cache_dir: Path = Field(default_factory=_default_cache_dir)
    host: str = "127.0.0.1"
    postgres_port: int = 5433
    postgres_database: str = "auth"
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_partitions: int = Field(24, ge=1)
    kafka_client_listeners: dict[str, tuple[int, int]] = {}
    """Listeners of the broker's own for chosen clients: name -> (the port it listens on, the
    port it tells those clients to use). A client that reaches the broker through a proxy
    bootstraps on the proxy's port and must be sent back to it, not to the broker's
    `kafka_port` (the network faults put a proxy in front of each service's Kafka link)."""
    cassandra_port: int = 9042
    cassandra_storage_port: int = 7000
    cassandra_jmx_port: int = 7199
    firestore_port: int = 8080
    firebase_auth_port: int = 9099
    firebase_project: str = "demo-chat"
    redis_port: int = 6379
    auth_port: int = 8000
    chat_port: int = 9000
    aggregator_port: int = 9101
    consumer_port: int = 9102
    ui_port: int = 3000
    java_home: Path | None = None
    jvm_dirs: list[Path] = [Path("/usr/lib/jvm")]
    cassandra_heap: str = "1G"

    database_url: str | None = Field(None, validation_alias=AliasChoices("DATABASE_URL"))
    kafka_bootstrap_servers: str | None = Field(
        None, validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS")
    )
    cassandra_hosts: str | None = Field(None, validation_alias=AliasChoices("CASSANDRA_HOSTS"))
    firestore_emulator_host: str | None = Field(
        None, validation_alias=AliasChoices("FIRESTORE_EMULATOR_HOST")
    )
    firebase_auth_emulator_host: str | None = Field(
        None, validation_alias=AliasChoices("FIREBASE_AUTH_EMULATOR_HOST")
    )
    redis_url: str | None = Field(None, validation_alias=AliasChoices("REDIS_URL"))

    def own_server(self, piece: str) -> str | None:
        """The address of a server of the user's own for the piece named `piece` (the
        unprefixed variables above), None when devstack runs that piece itself."""
        return {
            "postgres": self.database_url,
            "kafka": self.kafka_bootstrap_servers,
            "cassandra": self.cassandra_hosts,
            "firestore": self.firestore_emulator_host,
            "firebase-auth": self.firebase_auth_emulator_host,
            "redis": self.redis_url,
        }.get(piece)

    @cached_property
    def endpoints(self) -> "Endpoints":
        return Endpoints(
            database_url=self.database_url
            or f"postgresql+psycopg2://postgres@{self.host}:{self.postgres_port}/{self.postgres_database}",
            kafka_bootstrap_servers=self.kafka_bootstrap_servers
            or f"{self.host}:{self.kafka_port}",
            cassandra_hosts=self.cassandra_hosts or f"{self.host}:{self.cassandra_port}",
            firestore_emulator_host=self.firestore_emulator_host
            or f"{self.host}:{self.firestore_port}",
            firebase_auth_emulator_host=self.firebase_auth_emulator_host
            or f"{self.host}:{self.firebase_auth_port}",
            firebase_project=self.firebase_project,
            redis_url=self.redis_url or f"redis://{self.host}:{self.redis_port}/0",
        )


class Endpoints(BaseSettings):
    """Addresses of the running infrastructure, as the services' environment names them."""

    database_url: str
    kafka_bootstrap_servers: str
    cassandra_hosts: str
    firestore_emulator_host: str
    firebase_auth_emulator_host: str
    firebase_project: str
    redis_url: str

    def as_environment(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
            "CASSANDRA_HOSTS": self.cassandra_hosts,
            "FIRESTORE_EMULATOR_HOST": self.firestore_emulator_host,
            "FIREBASE_AUTH_EMULATOR_HOST": self.firebase_auth_emulator_host,
            "GOOGLE_CLOUD_PROJECT": self.firebase_project,
            "REDIS_URL": self.redis_url,
        }

    @property
    def cassandra_contact(self) -> tuple[list[str], int]:
        """Contact points and port parsed from `host[:port][,host...]`."""
        return contact_points(self.cassandra_hosts)
