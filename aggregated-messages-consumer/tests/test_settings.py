"""Consumer settings from the environment."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from aggregated_consumer.settings import ConsumerSettings
from devstack.testing import clear_environment


@pytest.fixture(autouse=True)
def _no_service_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_environment(monkeypatch, "AGGREGATED_CONSUMER_")


def test_project_and_emulator_come_from_the_stack_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AGGREGATED_CONSUMER_FIREBASE_PROJECT", raising=False)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-other")
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1234")
    settings = ConsumerSettings()
    assert settings.firebase_project == "demo-other"
    assert settings.firestore_emulator_host == "127.0.0.1:1234"


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AGGREGATED_CONSUMER_FIREBASE_PROJECT", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    settings = ConsumerSettings()
    assert settings.firebase_project == "demo-chat"
    assert settings.retention == timedelta(days=30)
    assert settings.dead_letter_topic == "chat_messages_grouped_dlq"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AGGREGATED_CONSUMER_BATCH_SIZE", "501"),
        ("AGGREGATED_CONSUMER_BATCH_SIZE", "0"),
        ("AGGREGATED_CONSUMER_MAX_ATTEMPTS", "0"),
    ],
)
def test_nonsense_is_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        ConsumerSettings()


def test_the_former_prefix_still_works_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSUMER_BATCH_SIZE", "7")
    with pytest.warns(FutureWarning, match="set AGGREGATED_CONSUMER_BATCH_SIZE instead"):
        settings = ConsumerSettings()
    assert settings.batch_size == 7


def test_the_new_prefix_wins_over_the_former(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSUMER_BATCH_SIZE", "7")
    monkeypatch.setenv("AGGREGATED_CONSUMER_BATCH_SIZE", "9")
    assert ConsumerSettings().batch_size == 9
