"""A steady conversation load with the retrying client the API asks for, and the audit of
what it left behind: every acknowledged message in history exactly once and in Firestore."""

import asyncio
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from end_to_end_support import (
    Pipeline,
    User,
    message_ids_in_firestore,
    open_chat,
    sign_up_and_log_in,
    wait_for,
)

from devstack.services import Service
from devstack.testing import unique_name

FULL = os.environ.get("FAULT_SCALE", "short") == "full"
"""`make fault` (FAULT_SCALE=full): more load, and longer faults, than `make test`'s short form."""

REQUEST_TIMEOUT = 20.0
"""Longer than the chat service's own Cassandra (10 s) and Kafka (5 s) timeouts: a request
still open after this long is a hang, and the load counts it as one."""


@dataclass
class LoadRecord:
    """What the clients saw: acknowledged message ids and every answer that was not one."""

    acknowledged: list[str] = field(default_factory=list)
    retried: set[str] = field(default_factory=set)
    """Messages whose send failed at least once before its acknowledgement."""
    statuses: Counter[int] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    """Answers a client must never get: 5xx other than 503, a 503 without Retry-After."""
    hangs: int = 0
    fault_after: int = 0
    enough_sent: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once `fault_after` messages are acknowledged: the moment to inject the fault."""
    fault_over: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the failed piece is back and every service is ready again."""

    def acknowledge(self, message_id: str, after_failures: bool) -> None:
        self.acknowledged.append(message_id)
        if after_failures:
            self.retried.add(message_id)
        if len(self.acknowledged) >= self.fault_after:
            self.enough_sent.set()

    def count(self, response: httpx.Response) -> None:
        self.statuses[response.status_code] += 1
        if response.status_code in (200, 201):
            return
        if response.status_code == 503 and response.headers.get("Retry-After"):
            return
        self.unexpected.append(f"{response.status_code} {response.text[:200]}")


@dataclass
class Conversation:
    chat_id: str
    alice: User
    bob: User


def open_conversations(pipeline: Pipeline, count: int) -> list[Conversation]:
    conversations = []
    with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
        for _ in range(count):
            alice = sign_up_and_log_in(client, pipeline, unique_name("alice"))
            bob = sign_up_and_log_in(client, pipeline, unique_name("bob"))
            chat_id = open_chat(client, pipeline, alice, bob)
            conversations.append(Conversation(chat_id, alice, bob))
    return conversations


async def send_until_acknowledged(
    client: httpx.AsyncClient, url: str, sender: User, payload: dict[str, str], record: LoadRecord
) -> None:
    """Retries one message with the same client_message_id until it is acknowledged (201, or
    200 for a repeat), as the API asks clients to."""
    body = {**payload, "client_message_id": uuid.uuid4().hex}
    failed, deadline = False, time.monotonic() + 180
    while True:
        try:
            response = await client.post(url, headers=sender.headers, json=body)
            record.count(response)
            if response.status_code in (200, 201):
                record.acknowledge(str(response.json()["message_id"]), failed)
                return
        except httpx.TimeoutException:
            record.hangs += 1
        except httpx.TransportError:
            pass  # the chat service itself is down: retried like a 503
        failed = True
        assert time.monotonic() < deadline, "no acknowledgement within three minutes"
        await asyncio.sleep(0.25)


async def converse(
    pipeline: Pipeline, conversation: Conversation, record: LoadRecord, pace: float, tail: int,
    seed: int,
) -> None:  # fmt: skip
    """Sends one message every `pace` seconds (waiting for each acknowledgement) until `tail`
    more were acknowledged after the fault was over."""
    rng = random.Random(seed)
    sender, receiver = conversation.alice, conversation.bob
    url = f"{pipeline.chat_url}/v1/messaging/"
    number, after_fault = 0, 0
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        while after_fault < tail:
            if rng.random() < 0.3:
                sender, receiver = receiver, sender
            payload = {
                "chat_id": conversation.chat_id,
                "to_user": receiver.id,
                "body": f"message {number} of {conversation.chat_id[:8]}",
            }
            await send_until_acknowledged(client, url, sender, payload, record)
            number += 1
            after_fault += record.fault_over.is_set()
            await asyncio.sleep(pace)


@dataclass(frozen=True)
class LoadShape:
    conversations: int
    fault_after: int
    """Acknowledged messages before the fault is injected."""
    pace: float
    """Seconds between two sends of one conversation."""
    tail: int
    """Messages each conversation sends once the fault is over."""


@dataclass(frozen=True)
class FaultRun:
    record: LoadRecord
    conversations: list[Conversation]
    down_seconds: float
    ready_again_seconds: float


async def run_under_load(
    pipeline: Pipeline, shape: LoadShape, inject: Callable[[], float]
) -> FaultRun:
    """Steady load; once `shape.fault_after` messages are acknowledged, `inject` (in a thread)
    breaks something and brings it back, returning how long it was down; then the time until
    every service is ready, and the load's tail."""
    conversations = await asyncio.to_thread(open_conversations, pipeline, shape.conversations)
    record = LoadRecord(fault_after=shape.fault_after)
    load = asyncio.gather(
        *(converse(pipeline, conversation, record, shape.pace, shape.tail, seed)
          for seed, conversation in enumerate(conversations))
    )  # fmt: skip
    await record.enough_sent.wait()
    down = await asyncio.to_thread(inject)
    ready_again = await asyncio.to_thread(seconds_until, lambda: every_service_ready(pipeline))
    record.fault_over.set()
    await load
    return FaultRun(record, conversations, down, ready_again)


def kill_and_restart(pipeline: Pipeline, victim: str) -> float:
    """kill -9 of `victim`, started again 1.5 s later; returns how long it was down."""
    started = time.monotonic()
    pipeline.kill(victim)
    time.sleep(1.5)
    pipeline.restart(victim)
    return time.monotonic() - started


def seconds_until(condition: Callable[[], bool], within: float = 180) -> float:
    """How long until `condition` holds (polled every 0.2 s); fails the test past `within`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < within, f"not true within {within:.0f} s"
        time.sleep(0.2)
    return time.monotonic() - started


SERVICES = ("auth", "chat", "aggregator", "consumer")


def ready_status(pipeline: Pipeline, service: str) -> int:
    """The status of the service's readiness probe (0 when nothing answers)."""
    component = pipeline.components[service]
    assert isinstance(component, Service)
    url = f"http://127.0.0.1:{component.port}{component.ready_path}"
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.TransportError:
        return 0


def every_service_ready(pipeline: Pipeline) -> bool:
    return all(ready_status(pipeline, service) == 200 for service in SERVICES)


def history_ids(pipeline: Pipeline, conversation: Conversation) -> list[str]:
    """Every message id of the chat's history, newest first, one entry per row returned."""
    ids: list[str] = []
    cursor: str | None = None
    with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
        while True:
            params = {"quantity": "100", **({"time": cursor} if cursor else {})}
            response = client.get(
                f"{pipeline.chat_url}/v1/chat/{conversation.chat_id}/messages/",
                headers=conversation.alice.headers, params=params,
            )  # fmt: skip
            assert response.status_code == 200, response.text
            page = response.json()
            if not page:
                return ids
            ids.extend(message["message_id"] for message in page)
            cursor = page[-1]["time"]


@dataclass(frozen=True)
class Audit:
    """What a reader finds afterwards, against what was acknowledged."""

    acknowledged: int
    missing_from_history: set[str]
    missing_from_firestore: set[str]
    duplicated: set[str]
    """Twice in the history, or in two burst documents although its send was never retried."""
    republished: set[str]
    """Retried sends whose message is in two burst documents: the chat service published it
    again because the first publication was not confirmed; readers merge by message_id."""

    @property
    def lost(self) -> set[str]:
        """Acknowledged, but missing from the history or from Firestore."""
        return self.missing_from_history | self.missing_from_firestore


def audit(pipeline: Pipeline, run: FaultRun, within: float = 90) -> Audit:
    record, conversations = run.record, run.conversations
    acknowledged = set(record.acknowledged)
    history: Counter[str] = Counter()
    for conversation in conversations:
        history.update(history_ids(pipeline, conversation))

    def in_firestore() -> Counter[str]:
        shown: Counter[str] = Counter()
        for conversation in conversations:
            shown.update(message_ids_in_firestore(pipeline.aggregates(conversation.chat_id)))
        return shown

    wait_for(lambda: acknowledged <= set(in_firestore()), within)
    time.sleep(3)  # late duplicates, if any, would land now
    shown = in_firestore()
    twice_shown = {m for m, n in shown.items() if n > 1}
    return Audit(
        acknowledged=len(acknowledged),
        missing_from_history=acknowledged - set(history),
        missing_from_firestore=acknowledged - set(shown),
        duplicated={m for m, n in history.items() if n > 1} | (twice_shown - record.retried),
        republished=twice_shown & record.retried,
    )
