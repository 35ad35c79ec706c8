"""The Kafka shell around the window: read records, emit bursts and offsets in one transaction.

Every record of `chat_messages` is decoded by its kind: a message goes into the window; an edit
or a deletion is applied to its message if a buffer holds it, and passed on; a read mark is
passed on; a record no decoder accepts goes to the dead-letter topic with its reason. What
leaves goes out in the order it was read, in one list, so a change never overtakes the burst
that closed before it.

Exactly once rests on three rules:
- bursts, passed-on records, dead letters and the consumed offsets are committed in the same
  Kafka transaction, and the downstream consumer reads `read_committed`, so a record is visible
  iff its offsets committed;
- a partition's committed offset never passes its first message still held in a buffer, and the
  commit metadata says which re-read messages already left (see `checkpoint`);
- whatever goes wrong mid-transaction, the transaction is aborted, the buffers are dropped and
  every partition is read again from its committed offset: state is always rebuilt from Kafka.

A transaction whose outcome is unknown (the broker did not answer within `commit_timeout`) is
not aborted: the producer is replaced by a new one with the same transactional id, whose
InitProducerId bumps the epoch, so the broker aborts what the old one left open (or keeps what
it did commit) and fences the old one should any of its requests still arrive. The rebuild then
starts from whichever offsets were committed. The same renewal answers the death of the
producer's sender routine on an error the client did not expect (not a fencing), a few times
within a few minutes at most (`SenderRenewals`).
"""

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    NodeNotReadyError,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    RequestTimedOutError,
    TransactionalIdAuthorizationFailed,
)
from aiokafka.structs import OffsetAndMetadata

from aggregator.checkpoint import Checkpoint, Replay, next_checkpoint
from aggregator.metrics import AggregatorMetrics
from aggregator.settings import AggregatorSettings
from aggregator.window import BufferKey, BurstWindow, ClosedBurst
from chat_events import ChatEvent, EventRejected, MessageChange, ReadMark, decode_chat_event
from stream_kit import dead_letter_headers, log_dead_letter

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


@dataclass(frozen=True)
class PassedOn:
    """An edit, a deletion or a read mark, sent on to the output topic as it came."""

    event: MessageChange | ReadMark


@dataclass(frozen=True)
class DeadLetter:
    """A record no decoder accepts: its original bytes go to the dead-letter topic."""

    record: ConsumerRecord
    rejected: EventRejected


Outgoing = ClosedBurst | PassedOn | DeadLetter
"""One record of a transaction, in the order it must leave."""


class OutcomeUnknown(KafkaError):  # type: ignore[misc]
    """The broker did not answer a transaction's requests in time: it may have committed."""


class SenderDied(KafkaError):  # type: ignore[misc]
    """The producer's sender routine ended before a transaction began: the producer can send
    nothing more."""


_INDEFINITE = (
    OutcomeUnknown,
    KafkaTimeoutError,
    RequestTimedOutError,
    KafkaConnectionError,
    NodeNotReadyError,
)
"""Errors after which a transaction may or may not have committed."""

_FATAL_FOR_EVERY_PRODUCER = (
    ProducerFenced,
    OutOfOrderSequenceNumber,
    TransactionalIdAuthorizationFailed,
)
"""What the sender routine dies of on purpose: a new producer would meet them again (a newer
process holds the id, the broker refuses it). It dies of anything else as "Unexpected error
during batch delivery" (aiokafka wraps it), e.g. an exception it did not catch on a connection
reset: the transaction manager is then fatal, but a new producer is not."""

_OLD_PRODUCER_STOP_TIMEOUT = 5.0
_RETRY_PAUSE = 1.0
"""Seconds between two tries to reach a Kafka that does not answer while recovering."""


class StoppedWhileWaiting(Exception):
    """A stop arrived while the process waited for Kafka to answer again. Nothing is left to
    flush (the failed transaction committed nothing the offsets do not say), so the process
    ends at once; whoever owns the partitions next reads the messages again."""


async def _pause_unless_stopped(stop: asyncio.Event) -> None:
    """Waits `_RETRY_PAUSE` before the next try, or raises as soon as `stop` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), _RETRY_PAUSE)
    if stop.is_set():
        raise StoppedWhileWaiting


@dataclass
class SenderRenewals:
    """How many times the producer is renewed after its sender routine died of an unexpected
    error: at most `limit` within `period` seconds. Past that the error is taken as permanent
    (a request the broker keeps refusing in a way the client does not know, such as an offset
    commit over the metadata limit) and the process stops, instead of renewing in a loop."""

    limit: int = 3
    period: float = 300.0
    times: list[float] = field(default_factory=list)

    def allow(self, now: float) -> bool:
        self.times = [t for t in self.times if now - t < self.period]
        if len(self.times) >= self.limit:
            return False
        self.times.append(now)
        return True


def sender_died_unexpectedly(producer: AIOKafkaProducer) -> bool:
    """Whether the producer's sender routine ended on an error other than a fencing."""
    task = producer._sender.sender_task  # aiokafka exposes no public accessor
    if task is None or not task.done() or task.cancelled():
        return False
    error = task.exception()
    return error is not None and not isinstance(error, _FATAL_FOR_EVERY_PRODUCER)


@dataclass
class KafkaClients:
    consumer: AIOKafkaConsumer
    producer: AIOKafkaProducer
    admin: AIOKafkaAdminClient
    new_producer: Callable[[], AIOKafkaProducer]
    """A producer with the same settings and transactional id, not started."""

    async def renew_producer(self, stop: asyncio.Event) -> None:
        """Replaces the producer after an indefinite error (Kafka's own advice for one).

        The new producer's start fences the old one and settles its open transaction; the old
        one gets a few seconds to stop (its requests may never be answered). A start that
        cannot reach Kafka (the error was the network's) is tried again with a fresh producer
        until one starts: the process waits for Kafka rather than exiting, unless told to stop.
        """
        old, self.producer = self.producer, self.new_producer()
        await _stop_quietly(old)
        while True:
            try:
                await self.producer.start()
                return
            except KafkaError as error:
                log.warning("producer_start_failed_retrying", error=repr(error))
                await _stop_quietly(self.producer)
                await _pause_unless_stopped(stop)
                self.producer = self.new_producer()


async def _stop_quietly(producer: AIOKafkaProducer) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(producer.stop(), _OLD_PRODUCER_STOP_TIMEOUT)


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
    sender_renewals: SenderRenewals = field(default_factory=SenderRenewals)
    waiting: list[Outgoing] = field(default_factory=list)
    """Closed bursts, passed-on records and dead letters not sent yet: they leave together in
    the next transaction, at most `transaction_interval` after the last one."""
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    """The process's stop signal; `run` adopts the one it is given."""

    def __post_init__(self) -> None:
        self.last_commit = self._now()

    def _now(self) -> float:
        # The window's own clock: its deadlines are times of that clock, and a second clock
        # (even time.monotonic itself, next to a fake one in a test) would not agree with them.
        return self.window.clock()

    async def run(self, stop: asyncio.Event) -> None:
        self.stop = stop
        try:
            await self._run_until(stop)
        except StoppedWhileWaiting:
            log.info("stopped_while_waiting_for_kafka")

    async def _run_until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            batches = await self.clients.consumer.getmany(timeout_ms=self._poll_wait_ms())
            if self.fatal is not None:
                raise self.fatal
            async with self.lock:
                try:
                    self.waiting.extend(self._take(batches))
                    self.waiting.extend(self.window.close_due())
                    if self._transaction_due() or self._commit_interval_passed():
                        await self._commit([])
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
        if self.waiting:
            due = self.last_commit + self.settings.transaction_interval.total_seconds()
            deadline = due if deadline is None else min(deadline, due)
        wait = _MAX_POLL_WAIT if deadline is None else deadline - self._now()
        return max(0, int(min(wait, _MAX_POLL_WAIT) * 1000))

    def _transaction_due(self) -> bool:
        """Whether what waits leaves now: one transaction per `transaction_interval` at most,
        so a steady stream of closing bursts shares transactions instead of one per fetch."""
        interval = self.settings.transaction_interval.total_seconds()
        return bool(self.waiting) and self._now() - self.last_commit >= interval

    def _commit_interval_passed(self) -> bool:
        interval = self.settings.commit_interval.total_seconds()
        due = self._now() - self.last_commit >= interval
        return due and any(p.dirty for p in self.progress.values())

    def _take(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> list[Outgoing]:
        outgoing: list[Outgoing] = []
        for tp, records in batches.items():
            progress = self.progress.get(tp.partition)
            if progress is None:
                continue  # fetched before a revocation: the new owner reads it again
            for record in records:
                outgoing.extend(self._take_record(tp.partition, progress, record))
        self.metrics.open_buffers.set(len(self.window))
        return outgoing

    def _take_record(
        self, partition: int, progress: _PartitionProgress, record: ConsumerRecord
    ) -> Sequence[Outgoing]:
        if progress.read_up_to is not None and record.offset < progress.read_up_to:
            return []  # stale data from before a seek
        progress.read_up_to = record.offset + 1
        progress.dirty = True
        replay = progress.replay
        if replay is not None and record.offset + 1 >= replay.read_up_to:
            progress.replay = None
        try:
            event: ChatEvent | EventRejected = decode_chat_event(record.value)
        except EventRejected as rejected:
            event = rejected
        verdict = Replay.NEW if replay is None else replay.verdict(_key(event), record.offset)
        if verdict is Replay.LEFT:
            self.metrics.replay_skipped.inc()
            return []
        if isinstance(event, EventRejected):
            log_dead_letter(record, event.reason, event.detail)
            return [DeadLetter(record, event)]
        return self._take_event(event, verdict, record.offset, partition)

    def _take_event(
        self, event: ChatEvent, verdict: Replay, offset: int, partition: int
    ) -> Sequence[Outgoing]:
        if isinstance(event, ReadMark):
            return [PassedOn(event)]  # never rebuilt: it belongs to no buffer
        if isinstance(event, MessageChange):
            held = self.window.apply(event)
            if held:
                self.metrics.changes_applied.inc()
            # A change is passed on even when a buffer holds its message: the message may also
            # sit in a document already (published twice). A rebuilt change is passed on again
            # only if no rebuilt buffer holds its message: the replay may have closed that
            # buffer again before reaching the change, with the old state; downstream a change
            # that does not win writes nothing.
            return [PassedOn(event)] if verdict is Replay.NEW or not held else []
        self.metrics.messages_in.inc()
        return self.window.add(event, offset, partition)

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

    async def _commit(self, closed: Sequence[Outgoing]) -> dict[TopicPartition, OffsetAndMetadata]:
        """Commits what waits and `closed`, in that order, with every partition's offsets."""
        outgoing = [*self.waiting, *closed]
        offsets = self._offsets()
        if not outgoing and not offsets:
            return offsets
        producer = self.clients.producer
        if producer._txn_manager.is_fatal_error():
            # The sender died between two transactions; beginning one now would fail an
            # assertion inside aiokafka rather than raise a Kafka error.
            raise SenderDied("the producer's sender routine has ended")
        try:
            async with asyncio.timeout(self.settings.commit_timeout.total_seconds()):
                await producer.begin_transaction()
                for item in outgoing:
                    await self._send(item)
                if offsets:
                    await producer.send_offsets_to_transaction(offsets, self.settings.group_id)
                await producer.commit_transaction()
        except TimeoutError as timeout:
            raise OutcomeUnknown("the transaction was not answered in time") from timeout
        self.waiting.clear()
        self._record_commit(outgoing)
        return offsets

    async def _send(self, item: Outgoing) -> None:
        producer = self.clients.producer
        if isinstance(item, DeadLetter):
            record = item.record
            delivery = await producer.send(
                self.settings.dead_letter_topic,
                key=record.key,
                value=record.value,
                headers=dead_letter_headers(record, item.rejected.reason, str(item.rejected)),
            )
            delivery.add_done_callback(_read_outcome)
            return
        event = item.burst if isinstance(item, ClosedBurst) else item.event
        delivery = await producer.send(
            self.settings.output_topic,
            key=str(event.chat_id).encode(),
            value=event.model_dump_json().encode(),
        )
        # The commit reports the transaction's fate; a record's own failure is read here so that
        # it is not reported again, as "never retrieved", when the process stops.
        delivery.add_done_callback(_read_outcome)

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

    def _record_commit(self, outgoing: Sequence[Outgoing]) -> None:
        self.last_commit = self._now()
        for progress in self.progress.values():
            progress.dirty = False
        closed = [item for item in outgoing if isinstance(item, ClosedBurst)]
        for item in outgoing:
            if isinstance(item, PassedOn):
                self.metrics.passed_on.labels(item.event.kind).inc()
            elif isinstance(item, DeadLetter):
                self.metrics.dead_letters.labels(item.rejected.reason).inc()
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
        """Settles the failed transaction and rebuilds every buffer from the committed offsets.

        A fenced producer cannot abort: that error ends the process (a newer replica owns the id).
        """
        await self._settle(error)
        if self.fatal is not None:
            raise self.fatal
        self.window.clear()
        self.waiting.clear()  # read again from the committed offsets, as the buffers are
        while True:
            assigned = {tp.partition for tp in self.clients.consumer.assignment()}
            self.progress = {p: v for p, v in self.progress.items() if p in assigned}
            try:
                await self.restore(sorted(assigned))
                return
            except KafkaError as failed:  # Kafka is not answering yet: wait for it
                log.warning("restore_failed_retrying", error=repr(failed))
                await _pause_unless_stopped(self.stop)

    async def _settle(self, error: KafkaError) -> None:
        """Ends the failed transaction one way or the other, or marks the process as done."""
        txn = self.clients.producer._txn_manager  # aiokafka exposes no public state accessor
        if (
            txn.is_fatal_error()
            and sender_died_unexpectedly(self.clients.producer)
            and self.sender_renewals.allow(self._now())
        ):
            # Its outcome is unknown (the sender may have died after the broker took the
            # commit): the new producer's start settles it either way, and the rebuild starts
            # from whichever offsets were committed.
            self.metrics.transactions.labels("sender_died").inc()
            log.warning("producer_sender_died_renewing_producer", error=repr(error))
            await self.clients.renew_producer(self.stop)
            return
        if txn.is_fatal_error():
            # Usually fenced: a newer process holds our transactional id. Also any error the
            # transaction manager cannot recover from: an offset commit the broker refused as
            # too large, an answer this client does not know (its sender stops on one) more
            # often than `sender_renewals` allows. Nothing of ours can commit any more;
            # stopping is the only correct move (the supervisor restarts us, and the state is
            # rebuilt from Kafka).
            self.metrics.transactions.labels("aborted").inc()
            self.fatal = error
            log.error("producer_fatal_error_stopping", error=repr(error))
            return
        if not isinstance(error, _INDEFINITE) and txn.is_in_transaction():
            self.metrics.transactions.labels("aborted").inc()
            log.warning("transaction_failed", error=repr(error))
            try:
                async with asyncio.timeout(self.settings.commit_timeout.total_seconds()):
                    await self.clients.producer.abort_transaction()
                return
            except TimeoutError:
                error = OutcomeUnknown("the abort was not answered in time")
        elif not isinstance(error, _INDEFINITE):
            return  # failed before the transaction began: nothing to end
        self.metrics.transactions.labels("outcome_unknown").inc()
        log.warning("transaction_outcome_unknown_renewing_producer", error=repr(error))
        await self.clients.renew_producer(self.stop)

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
                log.warning("revocation_flush_failed", error=repr(error))
                await self._settle(error)
                self.window.clear()  # every partition is restored on the coming assignment
                self.waiting.clear()
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


def _read_outcome(delivery: "asyncio.Future[object]") -> None:
    if not delivery.cancelled():
        delivery.exception()


def _key(event: ChatEvent | EventRejected) -> BufferKey | None:
    """The checkpoint's key of a record: (chat, sender) of a message, (chat, author) of a
    change, so that it follows its message's buffer; None of a read mark or a rejected record,
    which belong to no buffer."""
    if isinstance(event, ReadMark | EventRejected):
        return None
    return (event.chat_id, event.from_user)
