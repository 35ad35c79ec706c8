"""Settings from the environment: durations in seconds, the original's policy, bad values."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from aggregator.settings import AggregatorSettings
from devstack.testing import clear_environment


@pytest.fixture(autouse=True)
def _no_service_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_environment(monkeypatch, "AGGREGATOR_")


def test_durations_accept_seconds_and_iso_8601(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGGREGATOR_IDLE_TIMEOUT", "0.5")
    monkeypatch.setenv("AGGREGATOR_MAX_LATENCY", "PT2S")
    settings = AggregatorSettings()
    assert settings.idle_timeout == timedelta(milliseconds=500)
    assert settings.window_policy().max_latency == 2.0


def test_zero_max_latency_is_the_originals_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGGREGATOR_MAX_LATENCY", "0")
    assert AggregatorSettings().window_policy().max_latency is None


def test_unprefixed_bootstrap_servers_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGGREGATOR_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:1234")
    assert AggregatorSettings().kafka_bootstrap_servers == "broker:1234"


def test_transactional_id_defaults_to_a_stable_per_host_name() -> None:
    assert AggregatorSettings().transactional_id == AggregatorSettings().transactional_id
    assert AggregatorSettings().transactional_id.startswith("aggregator-")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AGGREGATOR_IDLE_TIMEOUT", "0"),
        ("AGGREGATOR_IDLE_TIMEOUT", "soon"),
        ("AGGREGATOR_MAX_LATENCY", "-1"),
        ("AGGREGATOR_MAX_MESSAGES", "0"),
        ("AGGREGATOR_MAX_OPEN_PER_PARTITION", "500"),
    ],
)
def test_nonsense_is_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        AggregatorSettings()
