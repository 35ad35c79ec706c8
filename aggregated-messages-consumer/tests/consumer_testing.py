"""Helpers for running the consumer as a real process and looking at what it wrote."""

import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore
from pydantic import BaseModel

from chat_events import (
    Burst,
    ChatMessage,
    MessageChange,
    MessageEvent,
    ReadMark,
    burst_from_messages,
)
from devstack.testing import ServiceProcess, free_port


def consumer_env(
    bootstrap: str, topics: dict[str, str], project: str, **extra: str
) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "AGGREGATED_CONSUMER_INPUT_TOPIC": topics["chat_messages_grouped"],
        "AGGREGATED_CONSUMER_DEAD_LETTER_TOPIC": topics["chat_messages_grouped_dlq"],
        "AGGREGATED_CONSUMER_GROUP_ID": f"consumer-{topics['chat_messages_grouped']}",
        "AGGREGATED_CONSUMER_FIREBASE_PROJECT": project,
        "AGGREGATED_CONSUMER_SESSION_TIMEOUT": "6",
        "AGGREGATED_CONSUMER_HTTP_PORT": str(free_port()),
        "AGGREGATED_CONSUMER_RETRY_INITIAL": "0.05",
        "AGGREGATED_CONSUMER_RETRY_MAX": "0.2",
        "AGGREGATED_CONSUMER_MAX_ATTEMPTS": "3",
        **extra,
    }


def make_burst(size: int = 3, sender: str = "1", other: str = "2", body: str = "hi") -> Burst:
    chat_id = uuid.uuid4()
    messages = [
        MessageEvent(
            message_id=uuid.uuid4(),
            chat_id=chat_id,
            from_user=sender,
            to_user=other,
            body=f"{body}{i}",
            time=uuid.uuid1(),
            time_iso=datetime.now(UTC),
            users_id=sorted([sender, other]),
        )
        for i in range(size)
    ]
    return burst_from_messages(messages, origin=f"0-{uuid.uuid4().int % 10**9}")


def firestore_client(project: str) -> Any:
    """A plain Google client on the emulator (FIRESTORE_EMULATOR_HOST is set by the fixture)."""
    return firestore.Client(project=project, credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]


def all_aggregates(client: Any) -> list[dict[str, Any]]:
    return [
        doc.to_dict() | {"_path": doc.reference.path}
        for doc in client.collection_group("aggregates").stream()
    ]


def change_of(
    message: ChatMessage, users_id: list[str], kind: str = "edit", body: str | None = None
) -> MessageChange:
    """An edit (to `body`, default "<old> (edited)") or a deletion of `message`, revised now."""
    if kind == "edit" and body is None:
        body = f"{message.body} (edited)"
    return MessageChange(
        kind=kind,  # type: ignore[arg-type]
        chat_id=message.chat_id,
        message_id=message.message_id,
        time=message.time,
        from_user=message.from_user,
        users_id=users_id,
        revision=uuid.uuid1(),
        body=body if kind == "edit" else None,
    )


def read_mark_of(burst: Burst, reader: str) -> ReadMark:
    last = burst.list_of_messages[-1]
    return ReadMark(
        chat_id=burst.chat_id,
        reader=reader,
        users_id=burst.users_id,
        up_to=last.time,
        up_to_iso=last.time_iso,
    )


def metric_value(metrics: str, line_start: str) -> float:
    """The value of the sample whose line starts with `line_start` (0 if absent)."""
    for line in metrics.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def dead_letters(bootstrap: str, topic: str, expected: int, within: float = 30) -> list[Any]:
    """The first `expected` records of the dead-letter topic (fewer if the time is up)."""
    reader = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await reader.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + within
        while len(records) < expected and time.monotonic() < deadline:
            for batch in (await reader.getmany(timeout_ms=500)).values():
                records.extend(batch)
    finally:
        await reader.stop()
    return records


async def produce(bootstrap: str, topic: str, values: Sequence[bytes | BaseModel]) -> None:
    """Publishes raw bytes, or a record's JSON, in order on one key."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for value in values:
            raw = value if isinstance(value, bytes) else value.model_dump_json().encode()
            await producer.send_and_wait(topic, value=raw, key=b"k")
    finally:
        await producer.stop()


async def committed_offset(bootstrap: str, group: str, topic: str) -> int:
    """The group's committed offset of partition 0 (-1 when nothing is committed)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        tp = TopicPartition(topic, 0)
        offsets = await admin.list_consumer_group_offsets(group, partitions=[tp])
        return int(offsets[tp].offset)
    finally:
        await admin.close()


async def metrics_text(service: ServiceProcess) -> str:
    async with httpx.AsyncClient() as http:
        port = service.env["AGGREGATED_CONSUMER_HTTP_PORT"]
        return (await http.get(f"http://127.0.0.1:{port}/metrics")).text
