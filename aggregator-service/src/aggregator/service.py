"""Wires the Kafka clients, the window and the probe endpoint together for `aggregator run`."""

import asyncio
import signal
import time

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from aggregator.metrics import AggregatorMetrics
from aggregator.pipeline import Aggregator, KafkaClients, RebalanceHandler
from aggregator.settings import AggregatorSettings
from aggregator.window import BurstWindow
from observability.probes import ProbeServer

log = structlog.get_logger(__name__)


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def build_clients(settings: AggregatorSettings) -> KafkaClients:
    servers = settings.kafka_bootstrap_servers
    consumer = AIOKafkaConsumer(
        bootstrap_servers=servers,
        group_id=settings.group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # Bursts of aborted transactions never reach us, nor do messages of an open one.
        isolation_level="read_committed",
        session_timeout_ms=_ms(settings.session_timeout.total_seconds()),
        heartbeat_interval_ms=_ms(settings.heartbeat_interval.total_seconds()),
        fetch_max_wait_ms=_ms(settings.fetch_wait.total_seconds()),
        fetch_min_bytes=settings.fetch_min_bytes,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=servers,
        transactional_id=settings.transactional_id,
        transaction_timeout_ms=_ms(settings.transaction_timeout.total_seconds()),
        enable_idempotence=True,
        acks="all",
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    return KafkaClients(consumer=consumer, producer=producer, admin=admin)


async def run(settings: AggregatorSettings) -> None:
    """Runs until SIGTERM/SIGINT, then flushes the open buffers in a last transaction."""
    metrics = AggregatorMetrics()
    clients = build_clients(settings)
    window = BurstWindow(settings.window_policy(), time.monotonic)
    aggregator = Aggregator(settings=settings, clients=clients, window=window, metrics=metrics)
    started: set[str] = set()
    probe = ProbeServer(metrics.registry, lambda: None if started >= {"kafka"} else "kafka")
    await probe.start(settings.http_host, settings.http_port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    try:
        # The producer starts first: its InitProducerId fences the previous process with the
        # same transactional id and settles its open transaction before we read any offset.
        await clients.producer.start()
        await clients.admin.start()
        clients.consumer.subscribe([settings.input_topic], listener=RebalanceHandler(aggregator))
        await clients.consumer.start()
        started.add("kafka")
        log.info("aggregator_started", transactional_id=settings.transactional_id)
        await aggregator.run(stop)
    finally:
        await _close(clients, probe)
        log.info("aggregator_stopped")


async def _close(clients: KafkaClients, probe: ProbeServer) -> None:
    for close in (clients.consumer.stop, clients.producer.stop, clients.admin.close, probe.stop):
        try:
            await close()
        except Exception as error:  # keep closing the others
            log.warning("close_failed", error=repr(error))
