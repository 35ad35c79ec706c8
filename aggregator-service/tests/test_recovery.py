"""A failed transaction mid-stream: aborted output stays invisible, buffers are rebuilt."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from aggregator_testing import (
    message_counts,
    new_message,
    read_bursts,
    send_messages,
    start_producer,
    steady_load,
)
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from aggregator.metrics import AggregatorMetrics
from aggregator.pipeline import (
    _OLD_PRODUCER_STOP_TIMEOUT,
    _RETRY_PAUSE,
    Aggregator,
    RebalanceHandler,
    SenderRenewals,
    StoppedWhileWaiting,
)
from aggregator.process import build_clients
from aggregator.settings import AggregatorSettings
from aggregator.window import BurstWindow
from devstack.ports import free_port
from devstack.settings import Endpoints
from devstack.testing import wait_until


@dataclass
class Running:
    """An aggregator running in the test's event loop, whose next `failures_due` commits fail
    the way `failure` says."""

    settings: AggregatorSettings
    metrics: AggregatorMetrics
    failures_due: int = 0
    failure: str = "error"
    """"error": the broker refuses the commit; "silence": the commit is never answered (nor
    made); "lost answer": the commit is made, its answer never arrives; "sender death": the
    producer's sender routine dies of an error it did not expect as it ends the transaction;
    "sender death after": the same, between this transaction and the next."""
    producers: int = 0
    aggregator: Aggregator | None = None
    loop: "asyncio.Task[None] | None" = None

    def transactions(self, outcome: str) -> float:
        return self.metrics.transactions.labels(outcome)._value.get()

    def aborted(self) -> float:
        return self.transactions("aborted")

    def with_faults(self, producer: AIOKafkaProducer) -> AIOKafkaProducer:
        # Fail a commit from inside the aggregator's own loop, after the bursts were written
        # into the transaction, as a broker would. (Calling the recovery from the test instead
        # would race the loop's in-flight fetch, which production never does.)
        self.producers += 1
        commit_for_real = producer.commit_transaction

        async def commit_or_fail() -> None:
            if not self.failures_due:
                await commit_for_real()
                return
            self.failures_due -= 1
            if self.failure == "sender death":
                _kill_sender_on_its_next_turn(producer)
                await commit_for_real()  # fails: the sender's death ends the transaction
                return
            if self.failure == "sender death after":
                await commit_for_real()
                _kill_sender_on_its_next_turn(producer)
                producer._txn_manager.notify_task_waiter()  # its next turn is now
                return
            if self.failure == "error":
                raise KafkaError("injected failure")
            if self.failure == "lost answer":
                await commit_for_real()
            await asyncio.Event().wait()  # no answer, ever

        producer.commit_transaction = commit_or_fail  # type: ignore[method-assign]
        return producer


def _kill_sender_on_its_next_turn(producer: AIOKafkaProducer) -> None:
    """The sender routine's next turn raises what it does not catch, as a connection reset
    met at the wrong moment did in the network fault suite: aiokafka ends the routine with
    "Unexpected error during batch delivery" and marks the transaction manager fatal."""
    sender = producer._sender

    def die() -> None:
        raise ConnectionResetError("injected: an error the sender routine does not expect")

    sender._maybe_do_transactional_request = die


@asynccontextmanager
async def running_aggregator(
    stack: Endpoints,
    topics: dict[str, str],
    idle_timeout: float,
    max_latency: float,
    commit_timeout: float = 15,
) -> AsyncIterator[Running]:
    settings = AggregatorSettings(
        kafka_bootstrap_servers=stack.kafka_bootstrap_servers,
        input_topic=topics["chat_messages"],
        output_topic=topics["chat_messages_grouped"],
        group_id=f"recovery-{uuid.uuid4()}",
        transactional_id=f"recovery-{uuid.uuid4()}",
        max_messages=5,
        idle_timeout=idle_timeout,
        max_latency=max_latency,
        commit_timeout=commit_timeout,
    )
    clients = build_clients(settings)
    running = Running(settings, AggregatorMetrics())
    new_producer = clients.new_producer
    clients.new_producer = lambda: running.with_faults(new_producer())
    clients.producer = running.with_faults(clients.producer)
    window = BurstWindow(settings.window_policy(), time.monotonic)
    aggregator = running.aggregator = Aggregator(settings, clients, window, running.metrics)
    await clients.producer.start()
    await clients.admin.start()
    clients.consumer.subscribe([settings.input_topic], listener=RebalanceHandler(aggregator))
    await clients.consumer.start()
    stop = asyncio.Event()
    loop = running.loop = asyncio.create_task(aggregator.run(stop))
    try:
        yield running
    finally:
        stop.set()
        try:
            await loop
        finally:
            await clients.consumer.stop()
            await clients.producer.stop()
            await clients.admin.close()


async def test_failed_transactions_abort_and_rebuild_without_loss_or_duplicates(
    stack: Endpoints, topics: dict[str, str]
) -> None:
    async with running_aggregator(stack, topics, idle_timeout=0.5, max_latency=1) as running:
        load = asyncio.create_task(
            steady_load(stack.kafka_bootstrap_servers, running.settings.input_topic, 12)
        )
        for _ in range(6):
            await asyncio.sleep(1.5)
            running.failures_due += 1
        sent = await load
        bursts = await read_bursts(
            stack.kafka_bootstrap_servers, running.settings.output_topic, len(sent), 30
        )
    counts = message_counts(bursts)  # a burst of an aborted transaction would be counted twice
    assert set(counts) == set(sent), f"missing {len(set(sent) - set(counts))} of {len(sent)}"
    assert [m for m, n in counts.items() if n > 1] == []
    assert running.aborted() == 6


async def test_a_rebuild_skips_the_messages_that_already_left_in_a_burst(
    stack: Endpoints, topics: dict[str, str]
) -> None:
    """One sender's open buffer holds the committed offset back below another sender's burst,
    already committed: the rebuild after a failed commit reads that burst's five messages again
    and must skip them, while it takes the open buffer's message again."""
    chat = uuid.uuid4()
    held = new_message(chat, "1", "2", "held open")
    left = [new_message(chat, "2", "1", f"left {n}") for n in range(5)]
    after = [new_message(chat, "3", "1", f"after {n}") for n in range(5)]
    bootstrap = stack.kafka_bootstrap_servers
    producer = start_producer(bootstrap)
    await producer.start()
    try:
        async with running_aggregator(stack, topics, idle_timeout=60, max_latency=60) as running:
            output = running.settings.output_topic
            await send_messages(producer, running.settings.input_topic, [held, *left])
            assert message_counts(await read_bursts(bootstrap, output, 5, 30)).total() == 5
            running.failures_due = 1
            await send_messages(producer, running.settings.input_topic, after)
            await read_bursts(bootstrap, output, 10, 30)
            assert running.aborted() == 1
            assert running.metrics.replay_skipped._value.get() == len(left)
    finally:
        await producer.stop()
    # Stopping flushed the held message; every message left exactly once.
    counts = message_counts(await read_bursts(bootstrap, output, 11, 30))
    assert counts == {m.message_id: 1 for m in [held, *left, *after]}


@pytest.mark.parametrize(
    ("failure", "outcome"),
    [
        ("silence", "outcome_unknown"),
        ("lost answer", "outcome_unknown"),
        ("sender death", "sender_died"),
        ("sender death after", "sender_died"),
    ],
)
async def test_a_producer_that_cannot_settle_its_transaction_is_renewed_and_loses_nothing(
    stack: Endpoints, topics: dict[str, str], failure: str, outcome: str
) -> None:
    """A commit the broker never answers may or may not have happened. The aggregator gives it
    `commit_timeout`, then replaces its producer: the new one's start aborts a transaction left
    open ("silence": it would otherwise hold back every read_committed reader until the
    broker's transaction timeout, a minute) or keeps one that committed ("lost answer"), and
    the rebuild starts from whichever offsets were committed. The same renewal, instead of a
    stop, follows the death of aiokafka's sender routine on an exception it does not expect,
    which takes the transaction manager with it (at a commit, or between two)."""
    bootstrap = stack.kafka_bootstrap_servers
    async with running_aggregator(
        stack, topics, idle_timeout=0.3, max_latency=1, commit_timeout=1
    ) as running:
        output = running.settings.output_topic
        load = asyncio.create_task(steady_load(bootstrap, running.settings.input_topic, 6))
        await asyncio.sleep(2)
        running.failure, running.failures_due = failure, 2
        sent = await load
        # Well inside the broker's transaction timeout: only the renewal can end an open one.
        bursts = await read_bursts(bootstrap, output, len(sent), 20)
        assert running.transactions(outcome) == 2
        assert running.producers == 3
        assert running.loop is not None
        assert not running.loop.done()
    counts = message_counts(bursts)
    assert set(counts) == set(sent), f"missing {len(set(sent) - set(counts))} of {len(sent)}"
    assert [m for m, n in counts.items() if n > 1] == []


async def test_a_sender_that_keeps_dying_stops_the_aggregator(
    stack: Endpoints, topics: dict[str, str]
) -> None:
    """Past its budget of renewals the error is taken as permanent: the process stops (its
    supervisor restarts it) rather than renewing in a loop."""
    bootstrap = stack.kafka_bootstrap_servers
    renewed: list[float] = []

    async def run_until_it_stops() -> None:
        async with running_aggregator(stack, topics, idle_timeout=0.3, max_latency=1) as running:
            assert running.aggregator is not None
            running.aggregator.sender_renewals = SenderRenewals(limit=2, period=300)
            running.failure, running.failures_due = "sender death", 10
            stop_load = asyncio.Event()
            load = asyncio.create_task(
                steady_load(bootstrap, running.settings.input_topic, 30, stop_load)
            )
            stopped = await wait_until(lambda: running.loop is not None and running.loop.done(), 60)
            stop_load.set()
            await load
            renewed.extend([running.transactions("sender_died"), running.producers])
            assert stopped

    with pytest.raises(KafkaError, match="Unexpected error during batch delivery"):
        await run_until_it_stops()
    assert renewed == [2, 3]  # two renewals, the third death stopped it


async def test_a_stop_ends_the_wait_for_a_kafka_that_does_not_answer() -> None:
    # After an indefinite error the producer is renewed, and a renewal that cannot reach Kafka
    # is tried again every second. A SIGTERM during that wait must end it, not be ignored until
    # the supervisor's kill.
    settings = AggregatorSettings(
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",  # nothing listens there
        transactional_id=f"recovery-{uuid.uuid4()}",
    )
    clients = build_clients(settings)
    producers_made = 0
    make_producer = clients.new_producer

    def counting_producer() -> AIOKafkaProducer:
        nonlocal producers_made
        producers_made += 1
        return make_producer()

    clients.new_producer = counting_producer
    stop = asyncio.Event()
    renewal = asyncio.create_task(clients.renew_producer(stop))
    assert await wait_until(lambda: producers_made >= 2, 30)  # it retried: Kafka is away
    stop.set()
    stopped_at = time.monotonic()
    with pytest.raises(StoppedWhileWaiting):
        await asyncio.wait_for(renewal, 30)
    await clients.consumer.stop()  # never started: only releases what its constructor made
    assert time.monotonic() - stopped_at < 2 * _RETRY_PAUSE + _OLD_PRODUCER_STOP_TIMEOUT
