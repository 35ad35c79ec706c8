"""The `aggregated-consumer run` process: Kafka, Firestore and the probes wired together."""

import asyncio
import os

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from aggregated_consumer.metrics import ConsumerMetrics
from aggregated_consumer.pipeline import BurstWriter
from aggregated_consumer.repository import AggregateRepository
from aggregated_consumer.settings import ConsumerSettings
from stream_kit import Readiness, run_until_signal

log = structlog.get_logger(__name__)

_POLL_MS = 500


def build_repository(settings: ConsumerSettings) -> AggregateRepository:
    if settings.firestore_emulator_host:
        # The Google client finds the emulator through this variable only.
        os.environ["FIRESTORE_EMULATOR_HOST"] = settings.firestore_emulator_host
    return AggregateRepository(
        project=settings.firebase_project,
        emulated=settings.firestore_emulator_host is not None,
        retention=settings.retention,
        timeout=settings.write_timeout,
    )


async def _consume(writer: BurstWriter, stop: asyncio.Event) -> None:
    """Batch after batch until stopped; the batch in hand is finished and committed first."""
    while not stop.is_set():
        batches = await writer.consumer.getmany(
            timeout_ms=_POLL_MS, max_records=writer.settings.batch_size
        )
        records = [r for batch in batches.values() for r in batch]
        if not records and writer.firestore_failing:
            await writer.check_firestore()  # idle: readiness needs a probe
        try:
            await writer.process(records)
        except Exception as error:
            if not stop.is_set():
                raise
            # Stopped while Firestore was out: the batch stays uncommitted and is read again.
            log.warning("stopped_during_firestore_outage", error=repr(error))


async def run(settings: ConsumerSettings) -> None:
    """Runs until SIGTERM/SIGINT; the batch in hand is finished and committed before exiting."""
    metrics = ConsumerMetrics()
    consumer = AIOKafkaConsumer(settings.input_topic, **settings.consumer_options())
    dead_letters = AIOKafkaProducer(**settings.producer_options())
    repository = build_repository(settings)
    writer = BurstWriter(settings, consumer, dead_letters, repository, metrics)
    readiness = Readiness("kafka")
    readiness.fails_while("firestore", lambda: writer.firestore_failing)

    async def stage(stop: asyncio.Event) -> None:
        await dead_letters.start()
        await consumer.start()
        readiness.started("kafka")
        await writer.check_firestore()
        log.info("consumer_started", project=settings.firebase_project)
        await _consume(writer, stop)

    try:
        await run_until_signal(
            settings,
            metrics.registry,
            readiness,
            stage,
            closers=[consumer.stop, dead_letters.stop],
            # The writer's own event: a write waiting out a Firestore outage gives up on a stop.
            stop=writer.stopping,
        )
    finally:
        await asyncio.to_thread(repository.close)  # closes the gRPC channel: blocking
        log.info("consumer_stopped")
