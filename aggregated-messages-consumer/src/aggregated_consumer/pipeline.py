"""Records from Kafka to Firestore: the batch is the unit of work.

Read a batch, write it to Firestore in partition order, and only then commit the Kafka
offsets. Consecutive bursts and read marks go in one batched commit; an edit or a deletion is
applied after the records read before it are written (so it finds the burst that holds its
message), to every document holding the message, and only where its state wins. A crash
before the offsets are committed replays the batch: deterministic document ids turn the bursts
into overwrites of the same documents, and a replayed change applies again after them or, if
nothing was overwritten, writes nothing. At-least-once delivery, exactly one document per burst.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from google.api_core.exceptions import InvalidArgument
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    stop_after_attempt,
    wait_exponential_jitter,
)

from aggregated_consumer.metrics import ConsumerMetrics
from aggregated_consumer.read_marks import WrittenMarks
from aggregated_consumer.repository import AggregateRepository, DocumentCounts
from aggregated_consumer.settings import ConsumerSettings
from chat_events import Burst, EventRejected, MessageChange, ReadMark, decode_grouped_record
from stream_kit import dead_letter_headers, log_dead_letter

log = structlog.get_logger(__name__)

T = TypeVar("T")


def is_refusal(error: BaseException | None) -> bool:
    """Firestore refused the documents themselves (too large, an invalid id): no retry can
    help, so after `max_attempts` they go to the dead-letter topic. Anything else (unavailable,
    deadline exceeded, quota, credentials) is an outage, waited out without losing a burst."""
    return isinstance(error, InvalidArgument)


@dataclass(frozen=True)
class _Parsed:
    """A burst or a read mark: a document written whole, in a batch with its neighbours."""

    record: ConsumerRecord
    value: Burst | ReadMark


@dataclass
class BurstWriter:
    settings: ConsumerSettings
    consumer: AIOKafkaConsumer
    dead_letters: AIOKafkaProducer
    repository: AggregateRepository
    metrics: ConsumerMetrics
    firestore_failing: bool = False
    """True from a failed Firestore commit until the next successful one (readiness)."""
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    """Set on SIGTERM/SIGINT: a write waiting out an outage gives up, uncommitted."""
    read_marks: WrittenMarks = field(default_factory=WrittenMarks)
    """A read mark behind one already written for its reader is not written: "Seen" never
    moves back."""

    async def process(self, records: Sequence[ConsumerRecord]) -> None:
        """Writes one batch of records in partition order, dead-letters what cannot be
        written, then commits the offsets."""
        if not records:
            return
        pending: list[_Parsed] = []
        for record in records:
            try:
                value = decode_grouped_record(record.value)
            except EventRejected as rejected:
                self.metrics.records_in.labels("rejected").inc()
                await self._dead_letter(record, rejected.reason, str(rejected))
                continue
            self.metrics.records_in.labels(value.kind).inc()
            if isinstance(value, ReadMark) and not self.read_marks.admit(value):
                self.metrics.read_marks_behind.inc()
                continue
            if isinstance(value, MessageChange):
                # The bursts read before a change may hold its message: they are written first.
                await self._write(pending)
                pending = []
                await self._apply(record, value)
            else:
                pending.append(_Parsed(record, value))
        await self._write(pending)
        await self._commit(records)

    async def _write(self, items: list[_Parsed]) -> None:
        if not items:
            return
        try:
            await self._through_outages(lambda: self.repository.write([i.value for i in items]))
        except Exception as error:
            if not is_refusal(error):
                raise  # shutting down during an outage: the batch is replayed after a restart
            if len(items) == 1:
                await self._dead_letter(items[0].record, "firestore", repr(error))
                return
            # One bad document fails its whole batch: write one by one to find the culprit.
            log.warning("batch_write_failed_splitting", records=len(items), error=repr(error))
            for item in items:
                await self._write([item])
            return
        self.metrics.batch_commits.labels("committed").inc()
        bursts = [i.value for i in items if isinstance(i.value, Burst)]
        for item in items:
            self.metrics.firestore_writes.labels(item.value.kind).inc()
        self.metrics.record_written(len(bursts), sum(b.count for b in bursts))
        self.metrics.observe_lag(m.time_iso for b in bursts for m in b.list_of_messages)
        log.debug("documents_written", documents=len(items))

    async def _apply(self, record: ConsumerRecord, change: MessageChange) -> None:
        """An edit or a deletion, applied to every document holding its message."""
        try:
            counts = await self._through_outages(lambda: self.repository.apply_change(change))
        except Exception as error:
            if not is_refusal(error):
                raise
            await self._dead_letter(record, "firestore", repr(error))
            return
        self.metrics.firestore_reads.labels(change.kind).inc(counts.read)
        self.metrics.firestore_writes.labels(change.kind).inc(counts.written)
        outcome = _change_outcome(counts)
        self.metrics.changes.labels(outcome).inc()
        log.debug("change_applied", kind=change.kind, outcome=outcome, documents=counts.written)

    async def _through_outages(self, call: Callable[[], Awaitable[T]]) -> T:
        """Retries a refused write `max_attempts` times, and an unavailable Firestore for as
        long as it takes (unready meanwhile): an outage must delay records, never dead-letter
        them. Only a shutdown ends the wait; the offsets stay uncommitted then."""

        def give_up(state: RetryCallState) -> bool:
            error = state.outcome.exception() if state.outcome else None
            if self.stopping.is_set():
                return True
            return is_refusal(error) and state.attempt_number >= self.settings.max_attempts

        retrying = AsyncRetrying(
            stop=give_up, wait=self._backoff(), before_sleep=self._note_failure, reraise=True
        )
        async for attempt in retrying:
            with attempt:
                result = await call()
        if self.firestore_failing:
            log.info("firestore_writes_resumed")
        self.firestore_failing = False
        return result

    async def check_firestore(self) -> None:
        """Readiness is false while Firestore does not answer; the writes retry on their own."""
        try:
            await self.repository.ping()
        except Exception as error:
            if not self.firestore_failing:
                log.warning("firestore_unreachable", error=repr(error))
            self.firestore_failing = True
        else:
            self.firestore_failing = False

    def _note_failure(self, state: RetryCallState) -> None:
        self.metrics.batch_commits.labels("retried").inc()
        if not self.firestore_failing:
            error = state.outcome.exception() if state.outcome else None
            log.warning("firestore_write_failing_retrying", error=repr(error))
        self.firestore_failing = True

    def _backoff(self) -> wait_exponential_jitter:
        return wait_exponential_jitter(
            initial=self.settings.retry_initial.total_seconds(),
            max=self.settings.retry_max.total_seconds(),
        )

    async def _with_retries(self, write: Callable[[], Awaitable[object]]) -> None:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.max_attempts), wait=self._backoff(), reraise=True
        )
        async for attempt in retrying:
            with attempt:
                await write()

    async def _dead_letter(self, record: ConsumerRecord, reason: str, error: str) -> None:
        """The original bytes, with where they came from and why they failed, so they can be
        inspected and replayed; the partition then moves on."""
        headers = dead_letter_headers(record, reason, error)
        await self._with_retries(
            lambda: self.dead_letters.send_and_wait(
                self.settings.dead_letter_topic, value=record.value, key=record.key, headers=headers
            )
        )
        self.metrics.dead_letters.labels(reason).inc()
        log_dead_letter(record, reason, error)

    async def _commit(self, records: Sequence[ConsumerRecord]) -> None:
        offsets: dict[TopicPartition, int] = {}
        for record in records:
            # The committed offset is the next one to read, hence the last one written + 1.
            tp = TopicPartition(record.topic, record.partition)
            offsets[tp] = max(offsets.get(tp, 0), record.offset + 1)
        try:
            await self.consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as error:
            # The partitions moved to another member during the write: it replays the batch,
            # which rewrites the same documents. Nothing is lost, nothing is doubled.
            log.warning("offset_commit_failed_after_rebalance", error=repr(error))


def _change_outcome(counts: DocumentCounts) -> str:
    if counts.written:
        return "applied"
    return "not_winning" if counts.matched else "unmatched"
