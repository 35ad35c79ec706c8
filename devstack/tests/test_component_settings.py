"""Which settings each piece reads: the port clients use, and the variable that points it at a
server of the user's own (then it is checked, never started)."""

import pytest

from devstack.components.base import Context
from devstack.components.kafka import Kafka
from devstack.services import SERVICES
from devstack.settings import StackSettings
from devstack.stack import INFRASTRUCTURE
from devstack.testing import clear_environment

PORTS = {
    "postgres": "postgres_port",
    "redis": "redis_port",
    "firestore": "firestore_port",
    "firebase-auth": "firebase_auth_port",
    "kafka": "kafka_port",
    "cassandra": "cassandra_port",
    "auth": "auth_port",
    "chat": "chat_port",
    "aggregator": "aggregator_port",
    "consumer": "consumer_port",
    "ui": "ui_port",
}
OWN_SERVERS = {
    "DATABASE_URL": ("postgres", "postgresql+psycopg2://postgres@db.internal:5432/auth"),
    "REDIS_URL": ("redis", "redis://cache.internal:6379/0"),
    "FIRESTORE_EMULATOR_HOST": ("firestore", "emulators.internal:8080"),
    "FIREBASE_AUTH_EMULATOR_HOST": ("firebase-auth", "emulators.internal:9099"),
    "KAFKA_BOOTSTRAP_SERVERS": ("kafka", "kafka.internal:9092"),
    "CASSANDRA_HOSTS": ("cassandra", "cassandra.internal"),
}


def test_each_piece_listens_on_the_port_its_own_setting_names() -> None:
    settings = StackSettings(**{field: 20000 + i for i, field in enumerate(PORTS.values())})
    context = Context(settings)
    ports = {cls(context).name: cls(context).port for cls in [*INFRASTRUCTURE, *SERVICES]}
    assert ports == {name: 20000 + i for i, name in enumerate(PORTS)}


@pytest.mark.parametrize("variable", OWN_SERVERS)
def test_a_server_of_ones_own_makes_only_its_piece_external(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    for name in OWN_SERVERS:
        monkeypatch.delenv(name, raising=False)
    clear_environment(monkeypatch, "DEVSTACK_")
    name, address = OWN_SERVERS[variable]
    monkeypatch.setenv(variable, address)
    context = Context(StackSettings())
    external = {cls(context).name for cls in [*INFRASTRUCTURE, *SERVICES] if cls(context).external}
    assert external == {name}


def test_a_client_listener_tells_its_clients_the_port_of_their_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEVSTACK_KAFKA_CLIENT_LISTENERS", '{"chat": [21001, 22001]}')
    settings = StackSettings(kafka_port=9092, kafka_controller_port=9093)
    properties = dict(
        line.split("=", 1) for line in Kafka(Context(settings)).server_properties().splitlines()
    )
    assert properties["listeners"].split(",") == [
        "PLAINTEXT://127.0.0.1:9092", "CONTROLLER://127.0.0.1:9093", "CHAT://127.0.0.1:21001",
    ]  # fmt: skip
    assert properties["advertised.listeners"].split(",") == [
        "PLAINTEXT://127.0.0.1:9092", "CONTROLLER://127.0.0.1:9093", "CHAT://127.0.0.1:22001",
    ]  # fmt: skip
    assert "CHAT:PLAINTEXT" in properties["listener.security.protocol.map"].split(",")
