import secrets
from datetime import timedelta

import pytest
from pydantic import ValidationError

from chat_service.settings import ChatSettings, Consistency
from devstack.testing import clear_environment


@pytest.fixture(autouse=True)
def _no_service_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_environment(monkeypatch, "CHAT_")


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


def test_consistency_is_one_on_a_dev_node_and_local_quorum_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert ChatSettings(app_env="development").write_consistency is Consistency.ONE
    monkeypatch.setenv("JWT_SECRET", secrets.token_urlsafe(48))
    production = ChatSettings(app_env="production")
    assert production.read_consistency is Consistency.LOCAL_QUORUM
    assert production.write_consistency is Consistency.LOCAL_QUORUM
    explicit = ChatSettings(app_env="production", read_consistency="LOCAL_ONE")
    assert explicit.read_consistency is Consistency.LOCAL_ONE


@pytest.mark.parametrize("keyspace", ["Chat", "1chat", "chat; DROP", "a" * 49])
def test_keyspace_must_be_a_plain_identifier(keyspace: str) -> None:
    with pytest.raises(ValidationError):
        ChatSettings(keyspace=keyspace)


def test_the_token_settings_are_checked_for_the_service_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.setenv("CHAT_APP_ENV", "production")
    with pytest.raises(ValidationError, match="JWT_SECRET is required when APP_ENV=production"):
        ChatSettings()


def test_shared_http_settings_are_read_under_the_service_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://stack:6379/0")
    assert ChatSettings().rate_limit_storage == "redis://stack:6379/0"
    monkeypatch.setenv("CHAT_RATE_LIMIT_STORAGE", "memory://")
    monkeypatch.setenv("CHAT_MAX_BODY_BYTES", "2048")
    settings = ChatSettings()
    assert (settings.rate_limit_storage, settings.max_body_bytes) == ("memory://", 2048)
    with pytest.raises(ValidationError, match="CHAT_WORKERS=2 needs rate limits shared"):
        ChatSettings(workers=2)
