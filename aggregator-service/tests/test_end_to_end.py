"""Aggregator and consumer together: from `chat_messages` to Firestore documents."""

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from aggregator_testing import (
    ServiceFactory,
    aggregator_env,
    consumer_env,
    message_counts,
    new_message,
    read_bursts,
    send_messages,
    start_aggregator,
    start_producer,
    steady_load,
    wait_ready,
)
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore

from devstack.settings import Endpoints
from devstack.testing import wait_until

IDLE_TIMEOUT = 0.5


@pytest.fixture
def pipeline_topics(kafka_topics: Callable[..., dict[str, str]]) -> dict[str, str]:
    return kafka_topics(
        "chat_messages", "chat_messages_grouped", "chat_messages_grouped_dlq", partitions=3
    )


def _documents(project: str) -> list[dict[str, Any]]:
    client = firestore.Client(project=project, credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
    try:
        return [d.to_dict() for d in client.collection_group("aggregates").stream()]
    finally:
        client.close()


def _firestore_message_counts(project: str) -> Counter[str]:
    return Counter(m["message_id"] for d in _documents(project) for m in d["list_of_messages"])


async def _start_pipeline(
    stack: Endpoints, topics: dict[str, str], project: str, services: ServiceFactory
) -> tuple[Any, Any]:
    agg_env = aggregator_env(stack.kafka_bootstrap_servers, topics, replica="a")
    con_env = consumer_env(stack.kafka_bootstrap_servers, topics, project)
    consumer = services("aggregated-consumer", con_env, "consumer").start()
    aggregator = await start_aggregator(services, agg_env)
    await wait_ready(con_env["AGGREGATED_CONSUMER_HTTP_PORT"], consumer)
    return aggregator, consumer


async def test_lone_message_is_in_firestore_within_idle_timeout_plus_one_second(
    stack: Endpoints,
    pipeline_topics: dict[str, str],
    firestore_project: str,
    services: ServiceFactory,
) -> None:
    aggregator, consumer = await _start_pipeline(
        stack, pipeline_topics, firestore_project, services
    )
    chat = uuid.uuid4()
    producer = start_producer(stack.kafka_bootstrap_servers)
    await producer.start()
    try:
        # Both senders at once: each gets a document of their own.
        warm_up = [new_message(chat, "1", "2", "a"), new_message(chat, "2", "1", "b")]
        await send_messages(producer, pipeline_topics["chat_messages"], warm_up)
        assert await wait_until(lambda: len(_documents(firestore_project)) == 2, 30), (
            aggregator.output() + consumer.output()
        )
        lone = new_message(chat, "1", "2", "lone")
        sent_at = time.monotonic()
        await send_messages(producer, pipeline_topics["chat_messages"], [lone])
        assert await wait_until(
            lambda: len(_documents(firestore_project)) == 3, IDLE_TIMEOUT + 1, interval=0.05
        )
        elapsed = time.monotonic() - sent_at
    finally:
        await producer.stop()
    assert elapsed <= IDLE_TIMEOUT + 1
    documents = _documents(firestore_project)
    assert sorted((d["from_user"], d["count"]) for d in documents) == [("1", 1), ("1", 1), ("2", 1)]
    assert set(_firestore_message_counts(firestore_project).values()) == {1}


@pytest.mark.slow
async def test_aggregator_killed_five_times_leaves_every_message_exactly_once_in_firestore(
    stack: Endpoints,
    pipeline_topics: dict[str, str],
    firestore_project: str,
    services: ServiceFactory,
) -> None:
    aggregator, consumer = await _start_pipeline(
        stack, pipeline_topics, firestore_project, services
    )
    killed_enough = asyncio.Event()
    load = asyncio.create_task(
        steady_load(
            stack.kafka_bootstrap_servers, pipeline_topics["chat_messages"], 60, killed_enough
        )
    )
    rng = random.Random(11)
    for _ in range(5):
        await asyncio.sleep(rng.uniform(3, 7))
        aggregator.kill()
        aggregator.start()
    await asyncio.sleep(3)  # messages for the last replacement to take over mid-stream
    killed_enough.set()
    sent = await load
    bursts = await read_bursts(
        stack.kafka_bootstrap_servers, pipeline_topics["chat_messages_grouped"], len(sent), 60
    )
    on_topic = message_counts(bursts)
    assert set(on_topic) == set(sent), f"missing {len(set(sent) - set(on_topic))} of {len(sent)}"
    assert [m for m, n in on_topic.items() if n > 1] == []

    expected = {str(m) for m in sent}
    assert await wait_until(
        lambda: set(_firestore_message_counts(firestore_project)) == expected, 30
    ), consumer.output()
    in_firestore = _firestore_message_counts(firestore_project)
    assert [m for m, n in in_firestore.items() if n > 1] == []
    assert len(_documents(firestore_project)) == len(bursts)
    assert aggregator.terminate() == 0
    assert consumer.terminate() == 0


async def test_a_republished_message_opening_a_new_burst_keeps_the_older_burst_document(
    stack: Endpoints,
    pipeline_topics: dict[str, str],
    firestore_project: str,
    services: ServiceFactory,
) -> None:
    # A retried send may be published twice. When the copy opens a new burst, that burst
    # starts with the same message as the first one; it must not replace the first document,
    # which also holds a message sent from another tab.
    aggregator, consumer = await _start_pipeline(
        stack, pipeline_topics, firestore_project, services
    )
    chat = uuid.uuid4()
    retried = new_message(chat, "1", "2", "retried")
    other_tab = new_message(chat, "1", "2", "from another tab")
    producer = start_producer(stack.kafka_bootstrap_servers)
    await producer.start()
    try:
        await send_messages(producer, pipeline_topics["chat_messages"], [retried, other_tab])
        assert await wait_until(
            lambda: _firestore_message_counts(firestore_project)[str(other_tab.message_id)] == 1,
            30,
        ), aggregator.output() + consumer.output()
        await send_messages(producer, pipeline_topics["chat_messages"], [retried])

        def republished_copy_landed() -> bool:
            counts = _firestore_message_counts(firestore_project)
            return counts[str(retried.message_id)] == 2 or not counts[str(other_tab.message_id)]

        assert await wait_until(republished_copy_landed, 30), aggregator.output()
    finally:
        await producer.stop()
    assert _firestore_message_counts(firestore_project)[str(other_tab.message_id)] == 1
