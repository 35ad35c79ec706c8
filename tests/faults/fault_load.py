"""A steady conversation load with the retrying client the API asks for, and the audit of
what it left behind: every acknowledged message in history exactly once and in Firestore, and,
where the load also edits and deletes, every message in its last acknowledged state in both."""

import asyncio
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

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


@dataclass(frozen=True)
class ExpectedState:
    """A message's state after its last acknowledged change."""

    chat_id: str
    body: str
    deleted: bool


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
    slowest: float = 0.0
    """Seconds of the slowest answer (an acknowledgement or a refusal) any request got."""
    final_states: dict[str, ExpectedState] = field(default_factory=dict)
    """Per changed message, the state its last acknowledged edit or deletion left."""
    changes: int = 0
    """Acknowledged edits and deletions."""
    changes_retried: int = 0
    """Edits and deletions that failed at least once before their acknowledgement."""
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

    def count(self, response: httpx.Response, seconds: float) -> None:
        self.statuses[response.status_code] += 1
        self.slowest = max(self.slowest, seconds)
        if response.status_code in (200, 201):
            return
        if response.status_code == 503 and response.headers.get("Retry-After"):
            return
        self.unexpected.append(f"{response.status_code} {response.text[:200]}")

    def merge_answers(self, other: "LoadRecord", source: str) -> None:
        """Counts the answers another client got (`source` names it) as if this one got them."""
        self.statuses.update(other.statuses)
        self.unexpected.extend(f"{source}: {answer}" for answer in other.unexpected)
        self.hangs += other.hangs
        self.slowest = max(self.slowest, other.slowest)


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
) -> dict[str, str]:
    """Retries one message with the same client_message_id until it is acknowledged (201, or
    200 for a repeat), as the API asks clients to; returns the message."""
    body = {**payload, "client_message_id": uuid.uuid4().hex}
    message, retried = await until_acknowledged(
        record, lambda: client.post(url, headers=sender.headers, json=body)
    )
    record.acknowledge(message["message_id"], retried)
    return message


async def change_until_acknowledged(
    client: httpx.AsyncClient, url: str, author: User, edit: str | None, record: LoadRecord
) -> dict[str, str]:
    """Retries one edit (`edit` is the new body) or deletion (None) until it is acknowledged
    (200); both are idempotent, so a retry of an edit that did land changes nothing."""
    if edit is None:
        message, retried = await until_acknowledged(
            record, lambda: client.delete(url, headers=author.headers)
        )
    else:
        message, retried = await until_acknowledged(
            record, lambda: client.patch(url, headers=author.headers, json={"body": edit})
        )
    record.changes += 1
    record.changes_retried += retried
    return message


async def until_acknowledged(
    record: LoadRecord, attempt: Callable[[], Awaitable[httpx.Response]]
) -> tuple[dict[str, str], bool]:
    """Repeats `attempt` until it answers 200 or 201; the answer's JSON, and whether an attempt
    failed first."""
    failed, deadline = False, time.monotonic() + 180
    while True:
        try:
            started = time.monotonic()
            response = await attempt()
            record.count(response, time.monotonic() - started)
            if response.status_code in (200, 201):
                return response.json(), failed
        except httpx.TimeoutException:
            record.hangs += 1
        except httpx.TransportError:
            pass  # the chat service itself is down: retried like a 503
        failed = True
        assert time.monotonic() < deadline, "no acknowledgement within three minutes"
        await asyncio.sleep(0.25)


async def converse(
    pipeline: Pipeline, conversation: Conversation, record: LoadRecord, shape: "LoadShape",
    seed: int,
) -> None:  # fmt: skip
    """Sends one message every `shape.pace` seconds (waiting for each acknowledgement) until
    `shape.tail` more were acknowledged after the fault was over; after a share of the sends
    (`shape.change_share`) the sender edits or deletes one of its earlier messages."""
    rng = random.Random(seed)
    sender, receiver = conversation.alice, conversation.bob
    url = f"{pipeline.chat_url}/v1/messaging/"
    sent: dict[str, list[dict[str, str]]] = {sender.id: [], receiver.id: []}
    number, after_fault = 0, 0
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        while after_fault < shape.tail:
            if rng.random() < 0.3:
                sender, receiver = receiver, sender
            payload = {
                "chat_id": conversation.chat_id,
                "to_user": receiver.id,
                "body": f"message {number} of {conversation.chat_id[:8]}",
            }
            sent[sender.id].append(
                await send_until_acknowledged(client, url, sender, payload, record)
            )
            if rng.random() < shape.change_share:
                await change_one(pipeline, client, sender, sent[sender.id], record, rng, number)
            number += 1
            after_fault += record.fault_over.is_set()
            await asyncio.sleep(shape.pace)


async def change_one(
    pipeline: Pipeline, client: httpx.AsyncClient, author: User, sent: list[dict[str, str]],
    record: LoadRecord, rng: random.Random, number: int,
) -> None:  # fmt: skip
    """Edits (three times in four) or deletes one of the author's messages not yet deleted,
    and notes the state its acknowledgement promises."""
    living = [m for m in sent if not record.final_states.get(m["message_id"], _ALIVE).deleted]
    if not living:
        return
    message = rng.choice(living)
    url = f"{pipeline.chat_url}/v1/chat/{message['chat_id']}/messages/{message['time']}"
    edit = f"edit {number} of {message['message_id'][:8]}" if rng.random() < 0.75 else None
    changed = await change_until_acknowledged(client, url, author, edit, record)
    assert (changed["body"], changed["deleted"]) == (edit or "", edit is None), changed
    record.final_states[message["message_id"]] = ExpectedState(
        message["chat_id"], edit or "", edit is None
    )


_ALIVE = ExpectedState("", "", False)


@dataclass(frozen=True)
class LoadShape:
    conversations: int
    fault_after: int
    """Acknowledged messages before the fault is injected."""
    pace: float
    """Seconds between two sends of one conversation."""
    tail: int
    """Messages each conversation sends once the fault is over."""
    change_share: float = 0.0
    """Share of sends after which the sender also edits or deletes an earlier message."""


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
        *(converse(pipeline, conversation, record, shape, seed)
          for seed, conversation in enumerate(conversations))
    )  # fmt: skip
    await record.enough_sent.wait()
    down = await asyncio.to_thread(inject)
    ready_again = await asyncio.to_thread(until_every_service_ready, pipeline)
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


def seconds_until(
    condition: Callable[[], bool], within: float = 180, what: str = "the condition"
) -> float:
    """How long until `condition` holds (polled every 0.2 s); fails the test past `within`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < within, f"{what}: not true within {within:.0f} s"
        time.sleep(0.2)
    return time.monotonic() - started


SERVICES = ("auth", "chat", "aggregator", "consumer")


def ready_status(pipeline: Pipeline, service: str) -> int:
    """The status of the service's readiness probe (0 when nothing answers)."""
    return ready_answer(pipeline, service)[0]


def ready_answer(pipeline: Pipeline, service: str) -> tuple[int, str]:
    """The status and body of the service's readiness probe ((0, the error) when nothing
    answers): the body names the dependency that is not ready."""
    component = pipeline.components[service]
    assert isinstance(component, Service)
    url = f"http://127.0.0.1:{component.port}{component.ready_path}"
    try:
        response = httpx.get(url, timeout=5)
    except httpx.TransportError as error:
        return 0, repr(error)
    return response.status_code, response.text[:500]


def every_service_ready(pipeline: Pipeline) -> bool:
    return all(ready_status(pipeline, service) == 200 for service in SERVICES)


def until_every_service_ready(pipeline: Pipeline, within: float = 180, after: str = "") -> float:
    """How long until every service is ready; past `within`, fails naming the ones that are
    not, with their probe's answer and the end of each one's log."""
    try:
        return seconds_until(lambda: every_service_ready(pipeline), within)
    except AssertionError:
        report = []
        for service in SERVICES:
            status, body = ready_answer(pipeline, service)
            if status != 200:
                log = pipeline.components[service].log_file
                tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
                report.append(f"{service} (ready answers {status or 'nothing'}: {body}):\n{tail}")
        raise AssertionError(
            f"not ready within {within:.0f} s{after}: " + "\n".join(report)
        ) from None


def history_ids(pipeline: Pipeline, conversation: Conversation) -> list[str]:
    """Every message id of the chat's history, newest first, one entry per row returned."""
    return [message["message_id"] for message in history_messages(pipeline, conversation)]


def history_messages(pipeline: Pipeline, conversation: Conversation) -> list[dict[str, Any]]:
    """Every message of the chat's history, newest first, one entry per row returned."""
    messages: list[dict[str, Any]] = []
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
                return messages
            messages.extend(page)
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


@dataclass(frozen=True)
class ChangeAudit:
    """Where a changed message is not in the state its last acknowledged change promised."""

    changed: int
    wrong_in_history: set[str]
    """An older body than the last acknowledged edit, or a deleted message with a body."""
    wrong_in_firestore: set[str]
    """The same, in any burst document holding the message."""

    @property
    def lost(self) -> set[str]:
        return self.wrong_in_history | self.wrong_in_firestore


def audit_changes(pipeline: Pipeline, run: FaultRun, within: float = 60) -> ChangeAudit:
    expected = run.record.final_states

    def wrong_in_firestore() -> set[str]:
        wrong: set[str] = set()
        for conversation in run.conversations:
            for document in pipeline.aggregates(conversation.chat_id):
                for message in document["list_of_messages"]:  # type: ignore[attr-defined]
                    state = expected.get(message["message_id"])
                    if state and (message["body"], message.get("deleted")) != (
                        state.body, state.deleted,
                    ):  # fmt: skip
                        wrong.add(message["message_id"])
        return wrong

    # Changes reach Firestore a moment after their acknowledgement: wait, then judge.
    wait_for(lambda: not wrong_in_firestore(), within)
    in_history = {
        m["message_id"]: m for c in run.conversations for m in history_messages(pipeline, c)
    }
    return ChangeAudit(
        changed=len(expected),
        wrong_in_history={
            message_id
            for message_id, state in expected.items()
            if (in_history[message_id]["body"], in_history[message_id]["deleted"])
            != (state.body, state.deleted)
        },
        wrong_in_firestore=wrong_in_firestore(),
    )
