"""Helpers for the tests that run the services as real processes against the running stack."""

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from chat_events import Burst, MessageChange, MessageEvent, ReadMark, decode_grouped_record
from devstack.testing import ServiceProcess, free_port

_DEFAULT_CHAT = uuid.UUID("00000000-0000-4000-8000-00000000000a")


ServiceFactory = Callable[[str, dict[str, str], str], ServiceProcess]


def aggregator_env(
    bootstrap: str, topics: dict[str, str], *, replica: str, **extra: str
) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "AGGREGATOR_INPUT_TOPIC": topics["chat_messages"],
        "AGGREGATOR_OUTPUT_TOPIC": topics["chat_messages_grouped"],
        "AGGREGATOR_DEAD_LETTER_TOPIC": topics["chat_messages_grouped_dlq"],
        "AGGREGATOR_GROUP_ID": f"aggregator-{topics['chat_messages']}",
        "AGGREGATOR_TRANSACTIONAL_ID": f"aggregator-{topics['chat_messages']}-{replica}",
        "AGGREGATOR_MAX_MESSAGES": "5",
        "AGGREGATOR_IDLE_TIMEOUT": "0.5",
        "AGGREGATOR_MAX_LATENCY": "1",
        "AGGREGATOR_SESSION_TIMEOUT": "6",
        "AGGREGATOR_HEARTBEAT_INTERVAL": "1",
        "AGGREGATOR_HTTP_PORT": str(free_port()),
        "AGGREGATOR_LOG_LEVEL": "INFO",
        **extra,
    }


def consumer_env(
    bootstrap: str, topics: dict[str, str], project: str, **extra: str
) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "AGGREGATED_CONSUMER_INPUT_TOPIC": topics["chat_messages_grouped"],
        "AGGREGATED_CONSUMER_DEAD_LETTER_TOPIC": topics.get(
            "chat_messages_grouped_dlq", "unused-dlq"
        ),
        "AGGREGATED_CONSUMER_GROUP_ID": f"consumer-{topics['chat_messages_grouped']}",
        "AGGREGATED_CONSUMER_FIREBASE_PROJECT": project,
        "AGGREGATED_CONSUMER_SESSION_TIMEOUT": "6",
        "AGGREGATED_CONSUMER_HTTP_PORT": str(free_port()),
        **extra,
    }


def new_message(chat_id: uuid.UUID, sender: str, other: str, body: str) -> MessageEvent:
    return MessageEvent(
        message_id=uuid.uuid4(),
        chat_id=chat_id,
        from_user=sender,
        to_user=other,
        body=body,
        time=uuid.uuid1(),
        time_iso=datetime.now(UTC),
        users_id=[sender, other] if sender < other else [other, sender],
    )


async def send_messages(
    producer: AIOKafkaProducer, topic: str, messages: Iterable[MessageEvent]
) -> None:
    for message in messages:
        await producer.send_and_wait(
            topic, key=str(message.chat_id).encode(), value=message.model_dump_json().encode()
        )


def start_producer(bootstrap: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")


async def read_bursts(
    bootstrap: str, topic: str, expected_messages: int, within: float
) -> list[Burst]:
    """Every committed burst of the topic, read until they hold `expected_messages` messages
    (or the time is up), plus one more second to catch any duplicate arriving late."""

    def enough(records: list[ConsumerRecord]) -> bool:
        return sum(Burst.model_validate_json(r.value).count for r in records) >= expected_messages

    records = await read_topic(bootstrap, topic, enough, within, settle=1.0)
    return [Burst.model_validate_json(r.value) for r in records]


async def read_topic(
    bootstrap: str,
    topic: str,
    done: Callable[[list[ConsumerRecord]], bool],
    within: float,
    settle: float = 0.0,
) -> list[ConsumerRecord]:
    """The committed records of every partition of `topic`, read until `done` says they are
    all there (or the time is up), then for `settle` seconds more."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        deadline = time.monotonic() + within
        settle_until: float | None = None
        while time.monotonic() < (settle_until or deadline):
            if settle_until is None and done(records):
                if settle <= 0:
                    break
                settle_until = time.monotonic() + settle
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


def kinds(records: list[ConsumerRecord]) -> list[str]:
    """The kind of each record read from the grouped topic."""
    return [decode_grouped_record(r.value).kind for r in records]


def message_counts(bursts: list[Burst]) -> Counter[uuid.UUID]:
    return Counter(m.message_id for b in bursts for m in b.list_of_messages)


async def steady_load(
    bootstrap: str, topic: str, seconds: float, stop_early: asyncio.Event | None = None
) -> list[uuid.UUID]:
    """Eight senders in four chats, each sending a message every 0.1-0.9 s (bursts and pauses),
    for `seconds` or until `stop_early` is set."""
    rng = random.Random(7)
    chats = [(uuid.uuid4(), str(2 * n), str(2 * n + 1)) for n in range(4)]
    senders = [(c, a, b) for c, a, b in chats] + [(c, b, a) for c, a, b in chats]
    sent: list[uuid.UUID] = []
    producer = start_producer(bootstrap)
    await producer.start()
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (stop_early and stop_early.is_set()):
            chat, sender, other = rng.choice(senders)
            message = new_message(chat, sender, other, f"m{len(sent)}")
            await send_messages(producer, topic, [message])
            sent.append(message.message_id)
            await asyncio.sleep(rng.choice([0.0, 0.01, 0.02, 0.05, 0.3]))
    finally:
        await producer.stop()
    return sent


async def start_aggregator(
    services: ServiceFactory, env: dict[str, str], name: str = "aggregator"
) -> ServiceProcess:
    """An aggregator process, started and ready."""
    aggregator = services("aggregator", env, name).start()
    await wait_ready(env["AGGREGATOR_HTTP_PORT"], aggregator)
    return aggregator


async def wait_ready(port: str, service: ServiceProcess, within: float = 30) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"http://127.0.0.1:{port}/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"service never became ready: {service.output()}")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


_node = 0x1234567890AB
_sequence = 0


def message(chat: uuid.UUID = _DEFAULT_CHAT, sender: str = "1", body: str = "hi") -> MessageEvent:
    """A message with a fresh TimeUUID, later than every message made before it."""
    global _sequence
    _sequence += 1
    time = uuid.uuid1(node=_node, clock_seq=_sequence % 0x3FFF)
    other = "2" if sender == "1" else "1"
    return MessageEvent(
        message_id=uuid.uuid4(),
        chat_id=chat,
        from_user=sender,
        to_user=other,
        body=body,
        time=time,
        time_iso=datetime.now(UTC),
        users_id=sorted([sender, other]),
    )


def change_of(
    message: MessageEvent,
    kind: str = "edit",
    body: str | None = None,
    revision: uuid.UUID | None = None,
) -> MessageChange:
    """An edit (new body `body`, default "<old> (edited)") or a deletion of `message` by its
    author, with a revision made now (later than every TimeUUID made before) unless given."""
    if kind == "edit" and body is None:
        body = f"{message.body} (edited)"
    return MessageChange(
        kind=kind,  # type: ignore[arg-type]
        chat_id=message.chat_id,
        message_id=message.message_id,
        time=message.time,
        from_user=message.from_user,
        users_id=list(message.users_id),
        revision=revision or uuid.uuid1(),
        body=body if kind == "edit" else None,
    )


def read_mark(message: MessageEvent) -> ReadMark:
    """The recipient of `message` has read the chat up to it."""
    return ReadMark(
        chat_id=message.chat_id,
        reader=message.to_user,
        users_id=list(message.users_id),
        up_to=message.time,
        up_to_iso=message.time_iso,
    )


async def send_events(
    producer: AIOKafkaProducer,
    topic: str,
    events: Iterable[MessageEvent | MessageChange | ReadMark],
) -> None:
    """Publishes records of any kind as the chat service does: key = chat id."""
    for event in events:
        await producer.send_and_wait(
            topic, key=str(event.chat_id).encode(), value=event.model_dump_json().encode()
        )


def legacy_json(message: MessageEvent) -> bytes:
    """`message` as a version-1 record: no `kind`, no `v`, none of the change fields."""
    return message.model_dump_json(
        exclude={"kind", "v", "edited_at", "deleted", "revision"}
    ).encode()
