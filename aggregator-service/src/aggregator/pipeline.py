"""The Kafka shell around the window: read messages, emit bursts and offsets in one transaction.

Exactly once rests on three rules:
- bursts and the consumed offsets are committed in the same Kafka transaction, and the
  downstream consumer reads `read_committed`, so a burst is visible iff its offsets committed;
- a partition's committed offset never passes its first message still held in a buffer, and the
  commit metadata says which re-read messages already left (see `checkpoint`);
- whatever goes wrong mid-transaction, the transaction is aborted, the buffers are dropped and
  every partition is read again from its committed offset: state is always rebuilt from Kafka.
"""

import asyncio
from dataclasses import dataclass, field

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata
from pydantic import ValidationError

from aggregator.checkpoint import Checkpoint, next_checkpoint
from aggregator.metrics import AggregatorMetrics
from aggregator.settings import AggregatorSettings
from aggregator.window import BurstWindow, ClosedBurst
from chat_events import MessageEvent

log = structlog.get_logger(__name__)

_MAX_POLL_WAIT = 0.5
_VISIBLE_TIMEOUT = 5.0


@dataclass
class _PartitionProgress:
    """What this replica knows about one assigned partition."""

    read_up_to: int | None = None
    """Offset after the last record read (Kafka's "next offset"); None before the first one."""
    replay: Checkpoint | None = None
    dirty: bool = False


@dataclass
class KafkaClients:
    consumer: AIOKafkaConsumer
    producer: AIOKafkaProducer
    admin: AIOKafkaAdminClient


@dataclass
class Aggregator:
    settings: AggregatorSettings
    clients: KafkaClients
    window: BurstWindow
    metrics: AggregatorMetrics
    progress: dict[int, _PartitionProgress] = field(default_factory=dict)
    # The rebalance callbacks run on the consumer's coordinator task, concurrently with the
    # main loop: both touch the window and the producer's transaction, so they take turns.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_commit: float = field(init=False)
    fatal: KafkaError | None = None
    """Set when the producer can never commit again (fenced); the process must stop."""

    def __post_init__(self) -> None:
        self.last_commit = self._now()

    def _now(self) -> float:
        # The window's own clock: its deadlines are times of that clock, and a second clock
        # (even time.monotonic itself, next to a fake one in a test) would not agree with them.
        return self.window.clock()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            batches = await self.clients.consumer.getmany(timeout_ms=self._poll_wait_ms())
            if self.fatal is not None:
                raise self.fatal
            async with self.lock:
                try:
                    closed = self._take(batches)
                    closed.extend(self.window.close_due())
                    if closed or self._commit_interval_passed():
                        await self._commit(closed)
                except KafkaError as error:
                    await self._recover(error)
        await self.shutdown()

    async def shutdown(self) -> None:
        """Flushes every buffer in a last transaction; if that fails, nothing was committed and
        the messages are read again by whoever owns the partitions next."""
        async with self.lock:
            try:
                await self._await_visible(await self._commit(self.window.flush_all()))
            except KafkaError as error:
                log.warning("shutdown_flush_failed", error=repr(error))

    def _poll_wait_ms(self) -> int:
        deadline = self.window.next_deadline()
        wait = _MAX_POLL_WAIT if deadline is None else deadline - self._now()
        return max(0, int(min(wait, _MAX_POLL_WAIT) * 1000))

    def _commit_interval_passed(self) -> bool:
        interval = self.settings.commit_interval.total_seconds()
        due = self._now() - self.last_commit >= interval
        return due and any(p.dirty for p in self.progress.values())

    def _take(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> list[ClosedBurst]:
        closed: list[ClosedBurst] = []
        for tp, records in batches.items():
            progress = self.progress.get(tp.partition)
            if progress is None:
                continue  # fetched before a revocation: the new owner reads it again
            for record in records:
                closed.extend(self._take_record(tp.partition, progress, record))
        self.metrics.open_buffers.set(len(self.window))
        return closed

    def _take_record(
        self, partition: int, progress: _PartitionProgress, record: ConsumerRecord
    ) -> list[ClosedBurst]:
        if progress.read_up_to is not None and record.offset < progress.read_up_to:
            return []  # stale data from before a seek
        progress.read_up_to = record.offset + 1
        progress.dirty = True
        message = _parse(record)
        if message is None:
            self.metrics.poison.inc()
            return []
        replay = progress.replay
        if replay is not None:
            if record.offset + 1 >= replay.read_up_to:
                progress.replay = None
            if replay.already_emitted((message.chat_id, message.from_user), record.offset):
                self.metrics.replay_skipped.inc()
                return []
        self.metrics.messages_in.inc()
        return self.window.add(message, record.offset, partition)

    def _offsets(self) -> dict[TopicPartition, OffsetAndMetadata]:
        earliest = self.window.earliest_offsets()
        open_keys = self.window.open_keys()
        offsets = {}
        for partition, progress in self.progress.items():
            if progress.read_up_to is None:
                continue
            # `read_up_to` is already last offset + 1: Kafka's committed offset names the next
            # record to read, so committing the last one read would read it again on restart.
            # A still-buffered message holds the offset back so that it is read again.
            offset = min(earliest.get(partition, progress.read_up_to), progress.read_up_to)
            checkpoint = next_checkpoint(
                progress.read_up_to, open_keys.get(partition, {}), progress.replay
            )
            tp = TopicPartition(self.settings.input_topic, partition)
            offsets[tp] = OffsetAndMetadata(offset, checkpoint.encode())
        return offsets

    async def _commit(self, closed: list[ClosedBurst]) -> dict[TopicPartition, OffsetAndMetadata]:
        offsets = self._offsets()
        if not closed and not offsets:
            return offsets
        producer = self.clients.producer
        await producer.begin_transaction()
        for item in closed:
            await producer.send(
                self.settings.output_topic,
                key=str(item.burst.chat_id).encode(),
                value=item.burst.model_dump_json().encode(),
            )
        if offsets:
            await producer.send_offsets_to_transaction(offsets, self.settings.group_id)
        await producer.commit_transaction()
        self._record_commit(closed)
        return offsets

    async def _await_visible(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        """Waits until the group coordinator serves the offsets just committed.

        A transaction's offsets become readable only once its commit markers are written, a
        moment after the commit call returns. The next owner of a handed-over partition must
        not read the older offset, or it would emit the last bursts a second time.
        """
        deadline = self._now() + _VISIBLE_TIMEOUT
        while offsets and self._now() < deadline:
            found = await self.clients.admin.list_consumer_group_offsets(
                self.settings.group_id, partitions=list(offsets)
            )
            if all(tp in found and found[tp].offset == o.offset for tp, o in offsets.items()):
                return
            await asyncio.sleep(0.05)
        if offsets:
            log.warning("committed_offsets_not_visible", partitions=len(offsets))

    def _record_commit(self, closed: list[ClosedBurst]) -> None:
        self.last_commit = self._now()
        for progress in self.progress.values():
            progress.dirty = False
        for item in closed:
            self.metrics.bursts_out.inc()
            self.metrics.messages_out.inc(item.burst.count)
            self.metrics.flushes.labels(item.reason.value).inc()
            self.metrics.burst_size.observe(item.burst.count)
            self.metrics.observe_lag(m.time_iso for m in item.burst.list_of_messages)
        self.metrics.transactions.labels("committed").inc()
        if closed:
            log.debug("bursts_committed", bursts=len(closed))

    async def _recover(self, error: KafkaError) -> None:
        """Aborts the open transaction and rebuilds every buffer from the committed offsets.

        A fenced producer cannot abort: that error ends the process (a newer replica owns the id).
        """
        self.metrics.transactions.labels("aborted").inc()
        log.warning("transaction_failed", error=repr(error))
        await self._abort_or_give_up(error)
        if self.fatal is not None:
            raise self.fatal
        self.window.clear()
        assigned = {tp.partition for tp in self.clients.consumer.assignment()}
        self.progress = {p: v for p, v in self.progress.items() if p in assigned}
        await self.restore(sorted(assigned))

    async def _abort_or_give_up(self, error: KafkaError) -> None:
        txn = self.clients.producer._txn_manager  # aiokafka exposes no public state accessor
        if txn.is_fatal_error():
            # Usually fenced: a newer process holds our transactional id. Also any error the
            # transaction manager cannot recover from, such as an offset commit the broker
            # refused as too large. Nothing of ours can commit any more; stopping is the only
            # correct move (the supervisor restarts us, and the state is rebuilt from Kafka).
            self.fatal = error
            log.error("producer_fatal_error_stopping", error=repr(error))
        elif txn.is_in_transaction():
            await self.clients.producer.abort_transaction()

    async def restore(self, partitions: list[int]) -> None:
        """Seeks each partition to its committed offset and loads the checkpoint to replay."""
        tps = [TopicPartition(self.settings.input_topic, p) for p in partitions]
        committed = await self.clients.admin.list_consumer_group_offsets(
            self.settings.group_id, partitions=tps
        )
        for tp in tps:
            progress = _PartitionProgress()
            found = committed.get(tp)
            if found is not None and found.offset >= 0:
                self.clients.consumer.seek(tp, found.offset)
                progress.read_up_to = found.offset
                checkpoint = Checkpoint.decode(found.metadata)
                if checkpoint is not None and checkpoint.read_up_to > found.offset:
                    progress.replay = checkpoint
            else:
                # Nothing committed yet: the group starts at the beginning, and so does a
                # rebuild. Offset 0 may be gone to retention; the reset policy "earliest" then
                # moves to the first one kept. (A plain seek: the awaiting variants could wait
                # on a rebalance that itself waits for this lock.)
                self.clients.consumer.seek(tp, 0)
            self.progress[tp.partition] = progress
        log.info("partitions_restored", partitions=partitions)

    async def on_revoked(self, partitions: list[int]) -> None:
        async with self.lock:
            closed = self.window.flush_partitions(partitions)
            try:
                await self._await_visible(await self._commit(closed))
            except KafkaError as error:
                self.metrics.transactions.labels("aborted").inc()
                log.warning("revocation_flush_failed", error=repr(error))
                await self._abort_or_give_up(error)
                self.window.clear()  # every partition is restored on the coming assignment
            for partition in partitions:
                self.progress.pop(partition, None)
            self.metrics.open_buffers.set(len(self.window))

    async def on_assigned(self, partitions: list[int]) -> None:
        async with self.lock:
            await self.restore(partitions)


class RebalanceHandler(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, aggregator: Aggregator) -> None:
        self._aggregator = aggregator

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._aggregator.on_revoked(sorted(tp.partition for tp in revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._aggregator.on_assigned(sorted(tp.partition for tp in assigned))


def _parse(record: ConsumerRecord) -> MessageEvent | None:
    try:
        return MessageEvent.model_validate_json(record.value or b"")
    except ValidationError as error:
        log.error(
            "poison_message_skipped",
            partition=record.partition,
            offset=record.offset,
            error=str(error).splitlines()[0],
        )
        return None
