"""Where settings are read from: the prefixed variable, a former name, the stack's variable."""

import warnings
from typing import ClassVar

import pytest
from pydantic_settings import SettingsConfigDict

from service_settings import ServiceSettings


class Example(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EXAMPLE_")
    stack_variables: ClassVar[dict[str, str]] = {"redis_url": "REDIS_URL"}
    former_variables: ClassVar[dict[str, str]] = {"redis_url": "EXAMPLE_REDIS_URI"}

    redis_url: str = "redis://default"
    replicas: list[str] = []


class Renamed(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NEW_NAME_")
    former_env_prefix: ClassVar[str | None] = "OLD_"

    batch_size: int = 1
    hosts: list[str] = []


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EXAMPLE_REDIS_URL", "EXAMPLE_REDIS_URI", "REDIS_URL", "OLD_BATCH_SIZE"):
        monkeypatch.delenv(name, raising=False)


def test_the_prefixed_variable_wins_over_the_former_name_and_the_stack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EXAMPLE_REDIS_URL", "redis://prefixed")
    monkeypatch.setenv("EXAMPLE_REDIS_URI", "redis://former")
    monkeypatch.setenv("REDIS_URL", "redis://stack")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the former name is not read, so no warning
        assert Example().redis_url == "redis://prefixed"


def test_a_former_name_is_read_with_a_warning_naming_the_new_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EXAMPLE_REDIS_URI", "redis://former")
    monkeypatch.setenv("REDIS_URL", "redis://stack")
    with pytest.warns(FutureWarning, match="EXAMPLE_REDIS_URI .* set EXAMPLE_REDIS_URL instead"):
        assert Example().redis_url == "redis://former"


def test_the_stack_variable_fills_what_the_service_left_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://stack")
    assert Example().redis_url == "redis://stack"
    assert Example(redis_url="redis://argument").redis_url == "redis://argument"


def test_every_field_is_still_read_under_a_former_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLD_BATCH_SIZE", "7")
    monkeypatch.setenv("OLD_HOSTS", '["a", "b"]')  # complex values are decoded as JSON
    with pytest.warns(FutureWarning, match="set NEW_NAME_BATCH_SIZE instead"):
        settings = Renamed()
    assert (settings.batch_size, settings.hosts) == (7, ["a", "b"])


@pytest.mark.parametrize(
    ("prefix", "name"),
    [("AUTH_", "auth"), ("AGGREGATOR_", "aggregator"),
     ("AGGREGATED_CONSUMER_", "aggregated-consumer")],
)  # fmt: skip
def test_the_service_name_is_read_back_from_its_prefix(prefix: str, name: str) -> None:
    class Named(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix=prefix)

    assert Named.service_name() == name
