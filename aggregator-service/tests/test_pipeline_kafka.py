"""The aggregator process against the real broker: grouping, kill -9, a replica joining."""

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from chat_events import Burst, timeuuid_sort_key
from devstack.settings import Endpoints

from .support import (
    Service,
    aggregator_env,
    new_message,
    read_bursts,
    send_messages,
    start_producer,
)


def _message_counts(bursts: list[Burst]) -> Counter[uuid.UUID]:
    return Counter(m.message_id for b in bursts for m in b.list_of_messages)


async def _steady_load(
    bootstrap: str, topic: str, seconds: float, stop_early: asyncio.Event | None = None
) -> list[uuid.UUID]:
    """Eight senders in four chats, each sending a message every 0.1-0.9 s (bursts and pauses)."""
    rng = random.Random(7)
    chats = [(uuid.uuid4(), str(2 * n), str(2 * n + 1)) for n in range(4)]
    senders = [(c, a, b) for c, a, b in chats] + [(c, b, a) for c, a, b in chats]
    sent: list[uuid.UUID] = []
    producer = start_producer(bootstrap)
    await producer.start()
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            chat, sender, other = rng.choice(senders)
            message = new_message(chat, sender, other, f"m{len(sent)}")
            await send_messages(producer, topic, [message])
            sent.append(message.message_id)
            await asyncio.sleep(rng.choice([0.0, 0.01, 0.02, 0.05, 0.3]))
    finally:
        await producer.stop()
    return sent


@pytest.fixture
def topics(kafka_topics: Callable[..., dict[str, str]]) -> dict[str, str]:
    return kafka_topics("chat_messages", "chat_messages_grouped", partitions=3)


@pytest.fixture
def services(tmp_path: Path):  # type: ignore[no-untyped-def]
    started: list[Service] = []

    def make(command: str, env: dict[str, str], name: str) -> Service:
        service = Service(command, env, tmp_path / f"{name}.log")
        started.append(service)
        return service

    yield make
    for service in started:
        service.stop_quietly()


async def _wait_ready(port: str, service: Service, within: float = 30) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"http://127.0.0.1:{port}/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"service never became ready: {service.output()}")


async def test_bursts_group_per_sender_and_close_on_each_trigger(
    stack: Endpoints, topics: dict[str, str], services
) -> None:
    env = aggregator_env(stack.kafka_bootstrap_servers, topics, replica="a")
    aggregator = services("aggregator", env, "aggregator").start()
    await _wait_ready(env["AGGREGATOR_HTTP_PORT"], aggregator)
    chat_a, chat_b = uuid.uuid4(), uuid.uuid4()
    producer = start_producer(stack.kafka_bootstrap_servers)
    await producer.start()
    try:
        full = [new_message(chat_a, "1", "2", f"full{i}") for i in range(5)]
        await send_messages(producer, topics["chat_messages"], full)
        idle = [new_message(chat_a, "2", "1", f"idle{i}") for i in range(2)]
        await send_messages(producer, topics["chat_messages"], idle)
        steady = []
        for i in range(8):  # one every 0.3 s: never idle for 0.5 s, so max latency closes it
            steady.append(new_message(chat_b, "3", "4", f"steady{i}"))
            await send_messages(producer, topics["chat_messages"], steady[-1:])
            await asyncio.sleep(0.3)
    finally:
        await producer.stop()
    bursts = await read_bursts(
        stack.kafka_bootstrap_servers, topics["chat_messages_grouped"], 15, 20
    )
    assert aggregator.alive(), aggregator.output()

    by_key: dict[tuple[uuid.UUID, str], list[Burst]] = {}
    for burst in bursts:
        by_key.setdefault((burst.chat_id, burst.from_user), []).append(burst)
    assert [[m.body for m in b.list_of_messages] for b in by_key[(chat_a, "1")]] == [
        [m.body for m in full]
    ]
    assert [b.count for b in by_key[(chat_a, "2")]] == [2]
    steady_bursts = by_key[(chat_b, "3")]
    assert len(steady_bursts) >= 2, "a steady sender must be flushed by max latency"
    assert all(b.count < 5 for b in steady_bursts)
    assert set(_message_counts(bursts).values()) == {1}
    assert len(_message_counts(bursts)) == 15
    for burst in bursts:
        times = [m.time for m in burst.list_of_messages]
        assert times == sorted(times, key=timeuuid_sort_key)
        assert burst.aggregate_id == f"{burst.from_user}_{times[0]}"

    async with httpx.AsyncClient() as client:
        metrics = (await client.get(f"http://127.0.0.1:{env['AGGREGATOR_HTTP_PORT']}/metrics")).text
    assert "aggregator_messages_in_total 15.0" in metrics
    assert 'aggregator_flush_total{reason="max_latency"}' in metrics
    assert aggregator.terminate() == 0


@pytest.mark.slow
async def test_kill_minus_nine_five_times_emits_every_message_exactly_once(
    stack: Endpoints, topics: dict[str, str], services
) -> None:
    env = aggregator_env(stack.kafka_bootstrap_servers, topics, replica="a")
    aggregator = services("aggregator", env, "aggregator").start()
    load = asyncio.create_task(
        _steady_load(stack.kafka_bootstrap_servers, topics["chat_messages"], 40)
    )
    rng = random.Random(11)
    for _ in range(5):
        await asyncio.sleep(rng.uniform(3, 7))
        aggregator.kill()
        aggregator.start()
    sent = await load
    bursts = await read_bursts(
        stack.kafka_bootstrap_servers, topics["chat_messages_grouped"], len(sent), 60
    )
    counts = _message_counts(bursts)
    assert set(counts) == set(sent), f"missing {len(set(sent) - set(counts))} of {len(sent)}"
    assert [m for m, n in counts.items() if n > 1] == []
    assert aggregator.terminate() == 0


@pytest.mark.slow
async def test_replica_joining_and_leaving_mid_stream_loses_and_doubles_nothing(
    stack: Endpoints, topics: dict[str, str], services
) -> None:
    first_env = aggregator_env(stack.kafka_bootstrap_servers, topics, replica="a")
    second_env = aggregator_env(stack.kafka_bootstrap_servers, topics, replica="b")
    first = services("aggregator", first_env, "first").start()
    load = asyncio.create_task(
        _steady_load(stack.kafka_bootstrap_servers, topics["chat_messages"], 25)
    )
    await asyncio.sleep(4)
    second = services("aggregator", second_env, "second").start()
    await asyncio.sleep(10)
    assert second.terminate() == 0
    sent = await load
    bursts = await read_bursts(
        stack.kafka_bootstrap_servers, topics["chat_messages_grouped"], len(sent), 60
    )
    assert "partitions_restored" in second.output(), "the second replica never got a partition"
    counts = _message_counts(bursts)
    assert set(counts) == set(sent), f"missing {len(set(sent) - set(counts))} of {len(sent)}"
    assert [m for m, n in counts.items() if n > 1] == []
    assert first.alive(), first.output()
    assert first.terminate() == 0
