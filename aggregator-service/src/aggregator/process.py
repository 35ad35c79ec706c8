"""The `aggregator run` process: Kafka clients, the window and the probes wired together."""

import asyncio
import time

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from aggregator.metrics import AggregatorMetrics
from aggregator.pipeline import Aggregator, KafkaClients, RebalanceHandler
from aggregator.settings import AggregatorSettings
from aggregator.window import BurstWindow
from stream_kit import Readiness, milliseconds, run_until_signal

log = structlog.get_logger(__name__)


def build_clients(settings: AggregatorSettings) -> KafkaClients:
    consumer = AIOKafkaConsumer(
        **settings.consumer_options(heartbeat_interval_ms=milliseconds(settings.heartbeat_interval))
    )

    def new_producer() -> AIOKafkaProducer:
        return AIOKafkaProducer(
            **settings.producer_options(
                transactional_id=settings.transactional_id,
                transaction_timeout_ms=milliseconds(settings.transaction_timeout),
            )
        )

    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    return KafkaClients(
        consumer=consumer, producer=new_producer(), admin=admin, new_producer=new_producer
    )


async def run(settings: AggregatorSettings) -> None:
    """Runs until SIGTERM/SIGINT, then flushes the open buffers in a last transaction."""
    metrics = AggregatorMetrics()
    clients = build_clients(settings)
    window = BurstWindow(settings.window_policy(), time.monotonic)
    aggregator = Aggregator(settings=settings, clients=clients, window=window, metrics=metrics)
    readiness = Readiness("kafka")
    # The producer is looked up when closing: an indefinite error may have replaced it.
    closers = [clients.consumer.stop, lambda: clients.producer.stop(), clients.admin.close]

    async def stage(stop: asyncio.Event) -> None:
        # The producer starts first: its InitProducerId fences the previous process with the
        # same transactional id and settles its open transaction before we read any offset.
        await clients.producer.start()
        await clients.admin.start()
        clients.consumer.subscribe([settings.input_topic], listener=RebalanceHandler(aggregator))
        await clients.consumer.start()
        readiness.started("kafka")
        log.info("aggregator_started", transactional_id=settings.transactional_id)
        await aggregator.run(stop)

    try:
        await run_until_signal(settings, metrics.registry, readiness, stage, closers=closers)
    finally:
        log.info("aggregator_stopped")
