"""Bursts from Kafka to Firestore: the batch is the unit of work.

Read a batch, write its bursts in one Firestore commit, and only then commit the Kafka offsets.
A crash in between replays the batch, and the deterministic document ids turn the replay into
overwrites of the same documents: at-least-once delivery, exactly one document per burst.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from google.api_core.exceptions import InvalidArgument
from pydantic import ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    stop_after_attempt,
    wait_exponential_jitter,
)

from aggregated_consumer.metrics import ConsumerMetrics
from aggregated_consumer.repository import AggregateRepository
from aggregated_consumer.settings import ConsumerSettings
from chat_events import Burst

log = structlog.get_logger(__name__)


def is_refusal(error: BaseException | None) -> bool:
    """Firestore refused the documents themselves (too large, an invalid id): no retry can
    help, so after `max_attempts` they go to the dead-letter topic. Anything else (unavailable,
    deadline exceeded, quota, credentials) is an outage, waited out without losing a burst."""
    return isinstance(error, InvalidArgument)


@dataclass(frozen=True)
class _Parsed:
    record: ConsumerRecord
    burst: Burst


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

    async def process(self, records: Sequence[ConsumerRecord]) -> None:
        """Writes one batch of records, dead-letters what cannot be written, commits offsets."""
        if not records:
            return
        self.metrics.bursts_in.inc(len(records))
        parsed: list[_Parsed] = []
        for record in records:
            try:
                parsed.append(_Parsed(record, Burst.model_validate_json(record.value or b"")))
            except ValidationError as error:
                await self._dead_letter(record, "unparsable", str(error))
        await self._write(parsed)
        await self._commit(records)

    async def _write(self, items: list[_Parsed]) -> None:
        if not items:
            return
        try:
            await self._write_through_outages([i.burst for i in items])
        except Exception as error:
            if not is_refusal(error):
                raise  # shutting down during an outage: the batch is replayed after a restart
            if len(items) == 1:
                await self._dead_letter(items[0].record, "firestore", repr(error))
                return
            # One bad document fails its whole batch: write one by one to find the culprit.
            log.warning("batch_write_failed_splitting", bursts=len(items), error=repr(error))
            for item in items:
                await self._write([item])
            return
        self.metrics.batch_commits.labels("committed").inc()
        self.metrics.record_written(len(items), sum(i.burst.count for i in items))
        self.metrics.observe_lag(m.time_iso for i in items for m in i.burst.list_of_messages)
        log.debug("bursts_written", bursts=len(items))

    async def _write_through_outages(self, bursts: list[Burst]) -> None:
        """Retries a refused batch `max_attempts` times, and an unavailable Firestore for as
        long as it takes (unready meanwhile): an outage must delay bursts, never dead-letter
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
                await self.repository.write(bursts)
        if self.firestore_failing:
            log.info("firestore_writes_resumed", bursts=len(bursts))
        self.firestore_failing = False

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
        headers = [
            ("error", error[:2000].encode()),
            ("error_reason", reason.encode()),
            ("source_topic", record.topic.encode()),
            ("source_partition", str(record.partition).encode()),
            ("source_offset", str(record.offset).encode()),
        ]
        await self._with_retries(
            lambda: self.dead_letters.send_and_wait(
                self.settings.dead_letter_topic, value=record.value, key=record.key, headers=headers
            )
        )
        self.metrics.dead_letters.labels(reason).inc()
        log.error(
            "record_dead_lettered",
            reason=reason,
            partition=record.partition,
            offset=record.offset,
            error=error.splitlines()[0][:300] if error else "",
        )

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
