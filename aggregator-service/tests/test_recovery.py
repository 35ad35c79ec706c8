"""A failed transaction mid-stream: aborted output stays invisible, buffers are rebuilt."""

import asyncio
import time
import uuid

from aggregator_testing import message_counts, read_bursts, steady_load
from aiokafka.errors import KafkaError

from aggregator.metrics import AggregatorMetrics
from aggregator.pipeline import Aggregator, RebalanceHandler
from aggregator.process import build_clients
from aggregator.settings import AggregatorSettings
from aggregator.window import BurstWindow
from devstack.settings import Endpoints


async def test_failed_transactions_abort_and_rebuild_without_loss_or_duplicates(
    stack: Endpoints, topics: dict[str, str]
) -> None:
    settings = AggregatorSettings(
        kafka_bootstrap_servers=stack.kafka_bootstrap_servers,
        input_topic=topics["chat_messages"],
        output_topic=topics["chat_messages_grouped"],
        group_id=f"recovery-{uuid.uuid4()}",
        transactional_id=f"recovery-{uuid.uuid4()}",
        max_messages=5,
        idle_timeout=0.5,
        max_latency=1,
    )
    clients = build_clients(settings)
    metrics = AggregatorMetrics()
    aggregator = Aggregator(
        settings, clients, BurstWindow(settings.window_policy(), time.monotonic), metrics
    )
    # Fail a commit from inside the aggregator's own loop, after the bursts were written into
    # the transaction, as a broker error would. (Calling the recovery from the test instead would
    # race the loop's in-flight fetch, which production never does.)
    commit_for_real = clients.producer.commit_transaction
    failures_due = 0

    async def commit_or_fail() -> None:
        nonlocal failures_due
        if failures_due:
            failures_due -= 1
            raise KafkaError("injected failure")
        await commit_for_real()

    clients.producer.commit_transaction = commit_or_fail  # type: ignore[method-assign]
    await clients.producer.start()
    await clients.admin.start()
    clients.consumer.subscribe([settings.input_topic], listener=RebalanceHandler(aggregator))
    await clients.consumer.start()
    stop = asyncio.Event()
    running = asyncio.create_task(aggregator.run(stop))
    try:
        load = asyncio.create_task(
            steady_load(stack.kafka_bootstrap_servers, settings.input_topic, 12)
        )
        for _ in range(6):
            await asyncio.sleep(1.5)
            failures_due += 1
        sent = await load
        bursts = await read_bursts(
            stack.kafka_bootstrap_servers, settings.output_topic, len(sent), 30
        )
    finally:
        stop.set()
        await running
        await clients.consumer.stop()
        await clients.producer.stop()
        await clients.admin.close()
    counts = message_counts(bursts)  # a burst of an aborted transaction would be counted twice
    assert set(counts) == set(sent), f"missing {len(set(sent) - set(counts))} of {len(sent)}"
    assert [m for m, n in counts.items() if n > 1] == []
    assert metrics.transactions.labels("aborted")._value.get() == 6
    assert metrics.replay_skipped._value.get() > 0, "the rebuilds never re-read anything"
