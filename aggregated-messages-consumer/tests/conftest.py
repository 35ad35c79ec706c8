"""Puts the consumer's test helpers on the path (pytest's importlib mode does not), and the
fixtures of the tests that run the consumer as a process."""

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from consumer_testing import consumer_env

from devstack.settings import Endpoints
from devstack.testing import ServiceProcess


@pytest.fixture
def topics(kafka_topics: Callable[..., dict[str, str]]) -> dict[str, str]:
    return kafka_topics("chat_messages_grouped", "chat_messages_grouped_dlq", partitions=1)


@pytest.fixture
def consumer(
    stack: Endpoints, topics: dict[str, str], firestore_project: str, tmp_path: Path
) -> Iterator[ServiceProcess]:
    """The consumer process on fresh topics, not started yet; stopped after the test."""
    env = consumer_env(stack.kafka_bootstrap_servers, topics, firestore_project)
    service = ServiceProcess("aggregated-consumer", env, tmp_path / "consumer.log")
    yield service
    service.stop_quietly()
