"""The shared settings: prefixed variables win, stack-wide ones fill in, client options."""

from datetime import timedelta
from typing import ClassVar

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from service_settings import AppEnv
from stream_kit import Port, StreamSettings, milliseconds


class StageSettings(StreamSettings):
    model_config = SettingsConfigDict(env_prefix="STAGE_")

    stack_variables: ClassVar[dict[str, str]] = {
        **StreamSettings.stack_variables,
        "project": "STACK_PROJECT",
    }

    input_topic: str = "in"
    group_id: str = "stage"
    project: str = "demo"
    http_port: Port = 9199


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APP_ENV", "KAFKA_BOOTSTRAP_SERVERS", "STACK_PROJECT"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_of_the_stage_and_of_the_kit() -> None:
    settings = StageSettings()
    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 9199)
    assert settings.app_env is AppEnv.DEVELOPMENT
    assert not settings.log_json


def test_unprefixed_stack_variables_fill_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:1234")
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("STACK_PROJECT", "real")
    settings = StageSettings()
    assert settings.kafka_bootstrap_servers == "broker:1234"
    assert settings.log_json
    assert settings.project == "real"


def test_the_prefixed_variable_wins_over_the_stack_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "shared:1")
    monkeypatch.setenv("STAGE_KAFKA_BOOTSTRAP_SERVERS", "own:2")
    assert StageSettings().kafka_bootstrap_servers == "own:2"


def test_other_fields_are_not_read_without_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PORT", "1")
    monkeypatch.setenv("GROUP_ID", "someone-else")
    settings = StageSettings()
    assert (settings.http_port, settings.group_id) == (9199, "stage")


def test_consumer_options_read_committed_without_auto_commit() -> None:
    options = StageSettings(session_timeout=timedelta(seconds=7)).consumer_options(
        heartbeat_interval_ms=2000
    )
    assert options["enable_auto_commit"] is False
    assert options["isolation_level"] == "read_committed"
    assert (options["group_id"], options["session_timeout_ms"]) == ("stage", 7000)
    assert (options["fetch_max_wait_ms"], options["fetch_min_bytes"]) == (100, 65536)
    assert options["heartbeat_interval_ms"] == 2000


def test_producer_options_are_idempotent_and_wait_for_every_replica() -> None:
    options = StageSettings().producer_options(transactional_id="t-1")
    assert (options["enable_idempotence"], options["acks"]) == (True, "all")
    assert options["transactional_id"] == "t-1"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STAGE_SESSION_TIMEOUT", "0"),
        ("STAGE_FETCH_WAIT", "-1"),
        ("STAGE_FETCH_MIN_BYTES", "0"),
        ("STAGE_HTTP_PORT", "70000"),
        ("STAGE_APP_ENV", "staging"),
    ],
)
def test_nonsense_is_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        StageSettings()


def test_milliseconds_are_whole() -> None:
    assert milliseconds(timedelta(seconds=1.5)) == 1500
    assert milliseconds(timedelta(microseconds=999)) == 0
