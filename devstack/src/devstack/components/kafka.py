"""Kafka 4.x in KRaft mode: one process that is both broker and controller."""

import asyncio
import base64
import subprocess
import sys
import uuid
from pathlib import Path

from devstack.components.base import StackError
from devstack.components.jvm import MavenComponent
from devstack.kafka_topics import create_topics, grow_topics

APPLICATION_TOPICS = ["chat_messages", "chat_messages_grouped", "chat_messages_grouped_dlq"]
_HEALTH_TOPIC = "devstack_health"

_LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRefs = stdout
rootLogger.appenderRef.stdout.ref = STDOUT
logger.state.name = state.change.logger
logger.state.level = warn
logger.controller.name = org.apache.kafka.controller
logger.controller.level = warn
"""


class Kafka(MavenComponent):
    name = "kafka"
    ready_timeout = 120.0

    @property
    def config_file(self) -> Path:
        return self.state_dir / "server.properties"

    def config_files(self) -> dict[Path, str]:
        return {
            self.config_file: self.server_properties(),
            self.state_dir / "log4j2.properties": _LOG4J2,
        }

    def prepare(self) -> None:
        super().prepare()
        if not (self.state_dir / "data" / "meta.properties").exists():
            # Cluster ids are 16 random bytes, URL-safe base64 without padding.
            self.format_storage(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))

    def server_properties(self) -> str:
        host, port, controller = self.host, self.port, self.settings.kafka_controller_port
        listeners = {"PLAINTEXT": (port, port), "CONTROLLER": (controller, controller)}
        for name, ports in self.settings.kafka_client_listeners.items():
            listeners[name.upper()] = ports
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"{host}:{controller}",
            "listeners": ",".join(f"{name}://{host}:{own}" for name, (own, _) in listeners.items()),
            "advertised.listeners": ",".join(
                f"{name}://{host}:{told}" for name, (_, told) in listeners.items()
            ),
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": ",".join(f"{name}:PLAINTEXT" for name in listeners),
            "log.dirs": str(self.state_dir / "data"),
            "num.partitions": str(self.settings.kafka_partitions),
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "10",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
            "delete.topic.enable": "true",
            "log.retention.hours": "168",
        }
        return "".join(f"{key}={value}\n" for key, value in settings.items())

    def format_storage(self, cluster_id: str) -> None:
        command = [
            *self._java_prefix(), "kafka.tools.StorageTool", "format", "--standalone",
            # `=` form: an id may start with "-", which argparse would take for an option.
            f"--cluster-id={cluster_id}", "-c", str(self.config_file), "--ignore-formatted",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(f"kafka: formatting storage failed:\n{result.stdout}{result.stderr}")

    def _java_prefix(self) -> list[str]:
        return [
            str(self.java()), "-Xms256m", "-Xmx512m",
            f"-Dlog4j2.configurationFile={self.state_dir / 'log4j2.properties'}",
            "-cp", f"{self.classpath_dir()}/*",
        ]  # fmt: skip

    def argv(self) -> list[str]:
        return [*self._java_prefix(), "kafka.Kafka", str(self.config_file)]

    def check(self) -> None:
        asyncio.run(self._round_trip())

    async def _round_trip(self) -> None:
        from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

        servers = self.context.endpoints.kafka_bootstrap_servers
        await create_topics(servers, [_HEALTH_TOPIC], partitions=1)
        marker = uuid.uuid4().hex.encode()
        producer = AIOKafkaProducer(bootstrap_servers=servers, request_timeout_ms=5000)
        await producer.start()
        try:
            sent = await producer.send_and_wait(_HEALTH_TOPIC, marker)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
        await consumer.start()
        try:
            partition = TopicPartition(_HEALTH_TOPIC, sent.partition)
            consumer.assign([partition])
            consumer.seek(partition, sent.offset)
            record = await asyncio.wait_for(consumer.getone(), timeout=10)
            if record.value != marker:
                raise StackError("kafka: the health record read back differs from the one sent")
        finally:
            await consumer.stop()

    def after_ready(self) -> None:
        servers = self.context.endpoints.kafka_bootstrap_servers
        partitions = self.settings.kafka_partitions
        asyncio.run(create_topics(servers, APPLICATION_TOPICS, partitions))
        # Topics of an older stack, made when the default was lower, grow to the setting.
        for topic, had in asyncio.run(grow_topics(servers, APPLICATION_TOPICS, partitions)).items():
            print(f"kafka: {topic} grown from {had} to {partitions} partitions", file=sys.stderr)
