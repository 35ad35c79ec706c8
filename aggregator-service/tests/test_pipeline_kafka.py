"""The aggregator process against the real broker: grouping, kill -9, a replica joining."""

import asyncio
import uuid

import httpx
import pytest
from aggregator_testing import (
    ServiceFactory,
    aggregator_env,
    change_of,
    free_port,
    kinds,
    legacy_json,
    message_counts,
    new_message,
    read_bursts,
    read_mark,
    read_topic,
    send_events,
    send_messages,
    start_aggregator,
    start_producer,
    steady_load,
)

from chat_events import Burst, timeuuid_sort_key
from devstack.settings import Endpoints


async def test_bursts_group_per_sender_and_close_on_each_trigger(
    stack: Endpoints, topics: dict[str, str], services: ServiceFactory
) -> None:
    env = aggregator_env(stack.kafka_bootstrap_servers, topics, replica="a")
    aggregator = await start_aggregator(services, env)
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
    assert set(message_counts(bursts).values()) == {1}
    assert len(message_counts(bursts)) == 15
    for burst in bursts:
        times = [m.time for m in burst.list_of_messages]
        assert times == sorted(times, key=timeuuid_sort_key)
        assert burst.aggregate_id.startswith(f"{burst.from_user}_{times[0]}_")

    async with httpx.AsyncClient() as client:
        metrics = (await client.get(f"http://127.0.0.1:{env['AGGREGATOR_HTTP_PORT']}/metrics")).text
    assert "aggregator_messages_in_total 15.0" in metrics
    assert 'aggregator_flush_total{reason="max_latency"}' in metrics
    assert aggregator.terminate() == 0


@pytest.mark.slow
async def test_replica_joining_and_leaving_mid_stream_loses_and_doubles_nothing(
    stack: Endpoints, topics: dict[str, str], services: ServiceFactory
) -> None:
    first_env = aggregator_env(stack.kafka_bootstrap_servers, topics, replica="a")
    second_env = aggregator_env(stack.kafka_bootstrap_servers, topics, replica="b")
    first = services("aggregator", first_env, "first").start()
    load = asyncio.create_task(
        steady_load(stack.kafka_bootstrap_servers, topics["chat_messages"], 25)
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
    counts = message_counts(bursts)
    assert set(counts) == set(sent), f"missing {len(set(sent) - set(counts))} of {len(sent)}"
    assert [m for m, n in counts.items() if n > 1] == []
    assert first.alive(), first.output()
    assert first.terminate() == 0


@pytest.mark.slow
async def test_restarted_replica_fences_the_zombie_with_its_transactional_id(
    stack: Endpoints, topics: dict[str, str], services: ServiceFactory
) -> None:
    env = aggregator_env(stack.kafka_bootstrap_servers, topics, replica="same")
    zombie = services("aggregator", env, "zombie").start()
    load = asyncio.create_task(
        steady_load(stack.kafka_bootstrap_servers, topics["chat_messages"], 20)
    )
    await asyncio.sleep(4)
    successor = services("aggregator", {**env, "AGGREGATOR_HTTP_PORT": str(free_port())}, "new")
    successor.start()
    assert zombie.process is not None
    exit_code = await asyncio.to_thread(zombie.process.wait, 90)  # generous on a busy machine
    assert exit_code != 0, "the fenced process must stop, not keep committing"
    # Its producer can never commit again, and it says so. The broker's answer is usually
    # "fenced"; a commit that races the fence has also been answered with an error code this
    # client does not know, which stops its sender: either way the same fatal path.
    # (The whole log: `output()` is its last lines only.)
    assert "producer_fatal_error_stopping" in zombie.log_path.read_text(errors="replace")
    sent = await load
    bursts = await read_bursts(
        stack.kafka_bootstrap_servers, topics["chat_messages_grouped"], len(sent), 60
    )
    counts = message_counts(bursts)
    assert set(counts) == set(sent), f"missing {len(set(sent) - set(counts))} of {len(sent)}"
    assert [m for m, n in counts.items() if n > 1] == []
    assert successor.terminate() == 0


async def _metrics(port: str) -> str:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"http://127.0.0.1:{port}/metrics")).text


@pytest.mark.parametrize(("interval", "transactions"), [("1", range(1, 5)), ("0", range(10, 40))])
async def test_bursts_closing_within_the_transaction_interval_share_a_transaction(
    stack: Endpoints,
    topics: dict[str, str],
    services: ServiceFactory,
    interval: str,
    transactions: range,
) -> None:
    """Thirty one-message bursts closing over about 1.5 s leave in a transaction per
    `transaction_interval` (1 s: two or three), not one per turn of the loop (0: about one
    each), and every message once."""
    env = aggregator_env(
        stack.kafka_bootstrap_servers,
        topics,
        replica="a",
        AGGREGATOR_MAX_MESSAGES="1",
        AGGREGATOR_TRANSACTION_INTERVAL=interval,
    )
    aggregator = await start_aggregator(services, env)
    chat = uuid.uuid4()
    sent = [new_message(chat, str(n), "x", f"m{n}") for n in range(30)]
    producer = start_producer(stack.kafka_bootstrap_servers)
    await producer.start()
    try:
        for message in sent:
            await send_messages(producer, topics["chat_messages"], [message])
            await asyncio.sleep(0.05)
    finally:
        await producer.stop()
    bursts = await read_bursts(
        stack.kafka_bootstrap_servers, topics["chat_messages_grouped"], len(sent), 20
    )
    assert message_counts(bursts) == {m.message_id: 1 for m in sent}
    metrics = await _metrics(env["AGGREGATOR_HTTP_PORT"])
    committed = float(
        next(
            line.rpartition(" ")[2]
            for line in metrics.splitlines()
            if line.startswith('aggregator_transactions_total{outcome="committed"}')
        )
    )
    assert int(committed) in transactions, committed
    assert aggregator.terminate() == 0


async def test_every_kind_leaves_in_order_and_rejected_records_are_dead_lettered_with_a_reason(
    stack: Endpoints, topics: dict[str, str], services: ServiceFactory
) -> None:
    env = aggregator_env(stack.kafka_bootstrap_servers, topics, replica="a")
    aggregator = await start_aggregator(services, env)
    chat = uuid.uuid4()
    legacy, sent = new_message(chat, "1", "2", "legacy"), new_message(chat, "1", "2", "typo")
    edit = change_of(sent, body="fixed")
    seen = read_mark(sent)
    rejected = [
        b'{"kind": "reaction", "v": 2, "chat_id": "x"}',
        new_message(chat, "1", "2", "from the future")
        .model_dump_json()
        .replace('"v":2', '"v":3')
        .encode(),
        b"\xff not json",
    ]
    producer = start_producer(stack.kafka_bootstrap_servers)
    await producer.start()
    try:
        key = str(chat).encode()
        await producer.send_and_wait(topics["chat_messages"], key=key, value=legacy_json(legacy))
        await send_events(producer, topics["chat_messages"], [sent, edit, seen])
        for value in rejected:
            await producer.send_and_wait(topics["chat_messages"], key=key, value=value)
    finally:
        await producer.stop()
    bootstrap = stack.kafka_bootstrap_servers
    out = await read_topic(bootstrap, topics["chat_messages_grouped"], lambda r: len(r) >= 3, 20)
    assert kinds(out) == ["edit", "read", "burst"], aggregator.output()
    assert out[0].value == edit.model_dump_json().encode()
    assert out[1].value == seen.model_dump_json().encode()
    burst = Burst.model_validate_json(out[2].value)
    # The edit reached the message while it was still buffered; the legacy record is a message.
    assert [m.body for m in burst.list_of_messages] == ["legacy", "fixed"]
    assert burst.list_of_messages[1].revision == edit.revision

    dead = await read_topic(
        bootstrap, topics["chat_messages_grouped_dlq"], lambda r: len(r) >= 3, 10
    )
    assert [r.value for r in dead] == rejected
    headers = [dict(r.headers) for r in dead]
    assert [h["error_reason"] for h in headers] == [
        b"unknown_kind",
        b"unsupported_version",
        b"unparsable",
    ]
    assert {h["source_topic"] for h in headers} == {topics["chat_messages"].encode()}
    assert [int(h["source_offset"]) for h in headers] == [4, 5, 6]
    assert all(r.key == str(chat).encode() for r in dead)
    metrics = await _metrics(env["AGGREGATOR_HTTP_PORT"])
    for line in [
        'aggregator_dead_letters_total{reason="unknown_kind"} 1.0',
        'aggregator_dead_letters_total{reason="unsupported_version"} 1.0',
        'aggregator_dead_letters_total{reason="unparsable"} 1.0',
        'aggregator_passed_on_total{kind="edit"} 1.0',
        'aggregator_passed_on_total{kind="read"} 1.0',
        "aggregator_changes_applied_total 1.0",
        "aggregator_messages_in_total 2.0",
    ]:
        assert line in metrics
    assert aggregator.terminate() == 0


async def test_killed_between_a_message_and_its_edit_the_rebuilt_burst_carries_the_edit(
    stack: Endpoints, topics: dict[str, str], services: ServiceFactory
) -> None:
    # A long idle timeout keeps the buffer open: the edit's transaction commits the offsets
    # with the buffer still open, then the process dies. The replay rebuilds the buffer from
    # the message, applies the edit to it again, and does not pass the edit on a second time.
    env = aggregator_env(
        stack.kafka_bootstrap_servers,
        topics,
        replica="a",
        AGGREGATOR_IDLE_TIMEOUT="60",
        AGGREGATOR_MAX_LATENCY="0",
    )
    aggregator = await start_aggregator(services, env)
    sent = new_message(uuid.uuid4(), "1", "2", "typo")
    edit = change_of(sent, body="fixed")
    producer = start_producer(stack.kafka_bootstrap_servers)
    await producer.start()
    try:
        await send_events(producer, topics["chat_messages"], [sent, edit])
    finally:
        await producer.stop()
    bootstrap, output = stack.kafka_bootstrap_servers, topics["chat_messages_grouped"]
    assert kinds(await read_topic(bootstrap, output, lambda r: len(r) >= 1, 20)) == ["edit"]
    aggregator.kill()

    restarted = {**env, "AGGREGATOR_IDLE_TIMEOUT": "0.3", "AGGREGATOR_HTTP_PORT": str(free_port())}
    services("aggregator", restarted, "restarted").start()
    records = await read_topic(bootstrap, output, lambda r: len(r) >= 2, 30)
    # One more moment for a second edit or burst that must not come.
    records = await read_topic(bootstrap, output, lambda r: False, 1.0)
    assert kinds(records) == ["edit", "burst"]
    (held,) = Burst.model_validate_json(records[1].value).list_of_messages
    assert (held.body, held.revision) == ("fixed", edit.revision)
