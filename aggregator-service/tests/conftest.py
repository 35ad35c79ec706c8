"""Fixtures for the tests that run the aggregator (and the consumer) as real processes."""

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# The helpers module sits next to the tests; with pytest's importlib mode it is not importable
# unless its folder is on the path. Its name is unique in the workspace, so nothing clashes.
sys.path.insert(0, str(Path(__file__).parent))

from aggregator_testing import ServiceFactory, ServiceProcess


@pytest.fixture
def topics(kafka_topics: Callable[..., dict[str, str]]) -> dict[str, str]:
    return kafka_topics(
        "chat_messages", "chat_messages_grouped", "chat_messages_grouped_dlq", partitions=3
    )


@pytest.fixture
def services(tmp_path: Path) -> Iterator[ServiceFactory]:
    started: list[ServiceProcess] = []

    def make(command: str, env: dict[str, str], name: str) -> ServiceProcess:
        service = ServiceProcess(command, env, tmp_path / f"{name}.log")
        started.append(service)
        return service

    yield make
    for service in started:
        service.stop_quietly()
