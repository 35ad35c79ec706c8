"""Wires Kafka, Firestore and the probe endpoint together for `aggregated-consumer run`."""

import asyncio
import os
import signal

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from aggregated_consumer.metrics import ConsumerMetrics
from aggregated_consumer.pipeline import BurstWriter
from aggregated_consumer.repository import AggregateRepository
from aggregated_consumer.settings import ConsumerSettings
from observability.probes import ProbeServer

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


async def _check_firestore(repository: AggregateRepository, writer: BurstWriter) -> None:
    """Readiness is false while Firestore does not answer; the writes retry on their own."""
    try:
        await repository.ping()
    except Exception as error:
        if not writer.firestore_failing:
            log.warning("firestore_unreachable", error=repr(error))
        writer.firestore_failing = True
    else:
        writer.firestore_failing = False


async def run(settings: ConsumerSettings) -> None:
    """Runs until SIGTERM/SIGINT; the batch in hand is finished and committed before exiting."""
    metrics = ConsumerMetrics()
    consumer = AIOKafkaConsumer(
        settings.input_topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # Only bursts whose aggregator transaction committed; aborted ones never show up.
        isolation_level="read_committed",
        session_timeout_ms=int(settings.session_timeout.total_seconds() * 1000),
        fetch_max_wait_ms=int(settings.fetch_wait.total_seconds() * 1000),
        fetch_min_bytes=settings.fetch_min_bytes,
    )
    dead_letters = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, enable_idempotence=True, acks="all"
    )
    repository = build_repository(settings)
    writer = BurstWriter(settings, consumer, dead_letters, repository, metrics)
    started: set[str] = set()

    def not_ready() -> str | None:
        if "kafka" not in started:
            return "kafka"
        return "firestore" if writer.firestore_failing else None

    probe = ProbeServer(metrics.registry, not_ready)
    await probe.start(settings.http_host, settings.http_port)
    stop = writer.stopping
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    try:
        await dead_letters.start()
        await consumer.start()
        started.add("kafka")
        await _check_firestore(repository, writer)
        log.info("consumer_started", project=settings.firebase_project)
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=_POLL_MS, max_records=settings.batch_size)
            records = [r for batch in batches.values() for r in batch]
            if not records and writer.firestore_failing:
                await _check_firestore(repository, writer)  # idle: readiness needs a probe
            try:
                await writer.process(records)
            except Exception as error:
                if not stop.is_set():
                    raise
                # Stopped while Firestore was out: the batch stays uncommitted and is read again.
                log.warning("stopped_during_firestore_outage", error=repr(error))
    finally:
        for close in (consumer.stop, dead_letters.stop, probe.stop):
            try:
                await close()
            except Exception as error:  # keep closing the others
                log.warning("close_failed", error=repr(error))
        repository.close()
        log.info("consumer_stopped")
