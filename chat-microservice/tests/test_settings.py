from datetime import timedelta

import pytest
from pydantic import ValidationError

from chat_service.settings import ChatSettings, Consistency


def test_unprefixed_infrastructure_names_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHAT_CASSANDRA_HOSTS", raising=False)
    monkeypatch.delenv("CHAT_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("CASSANDRA_HOSTS", "10.0.0.1:9142,10.0.0.2:9142")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "10.0.0.3:9092")
    settings = ChatSettings()
    assert settings.cassandra_contact == (["10.0.0.1", "10.0.0.2"], 9142)
    assert settings.kafka_bootstrap_servers == "10.0.0.3:9092"


def test_prefixed_names_win_and_durations_accept_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASSANDRA_HOSTS", "10.0.0.1")
    monkeypatch.setenv("CHAT_CASSANDRA_HOSTS", "10.0.0.9")
    monkeypatch.setenv("CHAT_REPEAT_BODY_WINDOW", "45")
    monkeypatch.setenv("CHAT_KAFKA_TIMEOUT", "PT3S")
    monkeypatch.setenv("CHAT_REPLICATION", '{"class": "NetworkTopologyStrategy", "dc1": 3}')
    settings = ChatSettings()
    assert settings.cassandra_contact == (["10.0.0.9"], 9042)
    assert settings.repeat_body_window == timedelta(seconds=45)
    assert settings.kafka_timeout == timedelta(seconds=3)
    assert settings.replication == {"class": "NetworkTopologyStrategy", "dc1": 3}


def test_consistency_is_one_on_a_dev_node_and_local_quorum_in_production() -> None:
    assert ChatSettings(app_env="development").write_consistency is Consistency.ONE
    production = ChatSettings(app_env="production")
    assert production.read_consistency is Consistency.LOCAL_QUORUM
    assert production.write_consistency is Consistency.LOCAL_QUORUM
    explicit = ChatSettings(app_env="production", read_consistency="LOCAL_ONE")
    assert explicit.read_consistency is Consistency.LOCAL_ONE


@pytest.mark.parametrize("keyspace", ["Chat", "1chat", "chat; DROP", "a" * 49])
def test_keyspace_must_be_a_plain_identifier(keyspace: str) -> None:
    with pytest.raises(ValidationError):
        ChatSettings(keyspace=keyspace)
