"""The long audited run (`make soak-faults`, opt-in): a steady load of messages for as long as
`SOAK_MESSAGES` takes (200,000 by the make target), while every `SOAK_FAULT_EVERY` seconds
(30) a different piece is killed with SIGKILL, stopped, or frozen with SIGSTOP for 15 s (a
partition: connections are accepted and never answered). At the end every acknowledged
message is in history exactly once and in Firestore, no burst is doubled, and each chat's
history holds its messages in the order they were sent (each conversation sends one message at
a time, so its send order is a total order).

Skipped unless `SOAK_MESSAGES` is set. Writes `.devstack/soak-faults.json`; docs/reliability.md
has the figures of a run.
"""

import asyncio
import json
import os
import re
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import httpx
import pytest
from end_to_end_support import Pipeline, User
from fault_load import (
    REQUEST_TIMEOUT,
    Conversation,
    FaultRun,
    LoadRecord,
    audit,
    history_messages,
    kill_and_restart,
    open_conversations,
    until_every_service_ready,
)

from devstack import stack as runner
from devstack.settings import REPO_ROOT

SOAK_MESSAGES = int(os.environ.get("SOAK_MESSAGES", "0"))
FAULT_EVERY = float(os.environ.get("SOAK_FAULT_EVERY", "30"))
CONVERSATIONS = int(os.environ.get("SOAK_CONVERSATIONS", "40"))
FREEZE_SECONDS = 15.0
REPORT = REPO_ROOT / ".devstack" / "soak-faults.json"

pytestmark = [
    pytest.mark.skipif(
        not SOAK_MESSAGES, reason="the long audited run: `make soak-faults` (SOAK_MESSAGES)"
    ),
    # The suite's per-test limit is five minutes; this run lasts as long as its messages take
    # (at 20 a second, a third of what this machine sustains, plus the audit).
    pytest.mark.timeout(900 + SOAK_MESSAGES // 20),
]


def _freeze(pipeline: Pipeline, name: str) -> float:
    pid = pipeline.pid(name)
    assert pid is not None, f"{name} is not running"
    started = time.monotonic()
    os.killpg(pid, signal.SIGSTOP)
    try:
        time.sleep(FREEZE_SECONDS)
    finally:
        os.killpg(pid, signal.SIGCONT)
    return time.monotonic() - started


def _stop_and_start(pipeline: Pipeline, name: str) -> float:
    started = time.monotonic()
    runner.down([pipeline.components[name]])
    time.sleep(1.5)
    runner.up([pipeline.components[name]])
    return time.monotonic() - started


# How each kind of fault is done to a piece, and how the report names it.
ACTIONS: dict[str, tuple[str, Callable[[Pipeline, str], float]]] = {
    "kill": ("kill -9", kill_and_restart),
    "freeze": ("frozen", _freeze),
    "stop": ("stop", _stop_and_start),
}
# In turn, one every FAULT_EVERY seconds. The Firestore emulator keeps its documents in memory
# only, so it is frozen, never killed.
FAULTS: list[tuple[str, str]] = [
    ("kill", "chat"), ("kill", "aggregator"), ("kill", "kafka"), ("kill", "consumer"),
    ("kill", "cassandra"), ("freeze", "chat"), ("kill", "redis"), ("freeze", "aggregator"),
    ("freeze", "firestore"), ("stop", "postgres"), ("freeze", "consumer"), ("kill", "auth"),
]  # fmt: skip


@dataclass
class Injected:
    fault: str
    at_seconds: float
    down_seconds: float
    ready_again_seconds: float


@dataclass
class Soak:
    record: LoadRecord = field(default_factory=LoadRecord)
    latencies: list[float] = field(default_factory=list)
    """Seconds from a message's first try to its acknowledgement, retries included."""
    relogins: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)


class _Member:
    """A user whose access token is renewed by logging in again when it expires mid-run."""

    def __init__(self, user: User) -> None:
        self.user = user

    async def log_in_again(self, client: httpx.AsyncClient, pipeline: Pipeline) -> None:
        password = f"pw-{self.user.username}-long-enough"
        login = await client.post(
            f"{pipeline.auth_url}/v1/login/",
            data={"username": self.user.username, "password": password},
        )
        if login.status_code == 200:
            self.user = User(self.user.id, self.user.username, login.json()["access_token"])


async def _send(
    client: httpx.AsyncClient, pipeline: Pipeline, soak: Soak, sender: _Member, body: dict[str, str]
) -> None:
    """One message, retried with its client_message_id until acknowledged."""
    url = f"{pipeline.chat_url}/v1/messaging/"
    started, failed, deadline = time.monotonic(), False, time.monotonic() + 300
    while True:
        try:
            attempt_started = time.monotonic()
            response = await client.post(url, headers=sender.user.headers, json=body)
            if response.status_code == 401:
                soak.relogins += 1
                await sender.log_in_again(client, pipeline)
            else:
                soak.record.count(response, time.monotonic() - attempt_started)
                if response.status_code in (200, 201):
                    soak.record.acknowledge(response.json()["message_id"], failed)
                    soak.latencies.append(time.monotonic() - started)
                    return
        except httpx.TimeoutException:
            soak.record.hangs += 1
        except httpx.TransportError:
            pass  # the chat service itself is down: retried like a 503
        failed = True
        assert time.monotonic() < deadline, "no acknowledgement within five minutes"
        await asyncio.sleep(0.25)


async def _converse(pipeline: Pipeline, conversation: Conversation, soak: Soak) -> None:
    members = [_Member(conversation.alice), _Member(conversation.bob)]
    number = 0
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        while len(soak.record.acknowledged) < SOAK_MESSAGES:
            # Alice sends two, Bob one, in turn: both directions, each in send order.
            sender, receiver = members if number % 3 != 2 else members[::-1]
            body = {
                "chat_id": conversation.chat_id,
                "to_user": receiver.user.id,
                "body": f"soak {number}",
                "client_message_id": f"{conversation.chat_id[:8]}-{number}",
            }
            await _send(client, pipeline, soak, sender, body)
            number += 1
    soak.done.set()


def _out_of_order(pipeline: Pipeline, conversations: list[Conversation]) -> list[str]:
    """Chats whose history, oldest first, does not hold their messages in send order."""
    wrong = []
    for conversation in conversations:
        oldest_first = reversed(history_messages(pipeline, conversation))
        numbers = [int(re.sub(r"\D", "", m["body"])) for m in oldest_first]
        if numbers != sorted(numbers):
            wrong.append(conversation.chat_id)
    return wrong


def _seconds_until_ready(pipeline: Pipeline, after: str) -> float:
    return until_every_service_ready(pipeline, after=f" after {after}")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def test_a_long_run_with_a_fault_every_half_minute_loses_and_doubles_nothing(
    pipeline: Pipeline,
) -> None:
    conversations = await asyncio.to_thread(open_conversations, pipeline, CONVERSATIONS)
    soak = Soak()
    started = time.monotonic()
    load = asyncio.gather(*(_converse(pipeline, c, soak) for c in conversations))
    injected: list[Injected] = []
    turn = 0
    while not soak.done.is_set():
        try:
            await asyncio.wait_for(soak.done.wait(), FAULT_EVERY)
            break
        except TimeoutError:
            pass
        action, piece = FAULTS[turn % len(FAULTS)]
        label, fault = ACTIONS[action]
        name = f"{piece} {label}"
        at = time.monotonic() - started
        down = await asyncio.to_thread(fault, pipeline, piece)
        ready = await asyncio.to_thread(_seconds_until_ready, pipeline, name)
        injected.append(Injected(name, round(at, 1), round(down, 1), round(ready, 1)))
        turn += 1
    await load
    seconds = time.monotonic() - started
    # The audit reads every history as each chat's first member, whose first access token
    # expired long ago (15 minutes): log in again first.
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        for index, conversation in enumerate(conversations):
            reader = _Member(conversation.alice)
            await reader.log_in_again(client, pipeline)
            conversations[index] = replace(conversation, alice=reader.user)
    run = FaultRun(soak.record, conversations, down_seconds=0, ready_again_seconds=0)
    found = await asyncio.to_thread(audit, pipeline, run, 600)
    out_of_order = await asyncio.to_thread(_out_of_order, pipeline, conversations)
    report = {
        "messages_acknowledged": found.acknowledged,
        "seconds": round(seconds),
        "messages_per_second": round(found.acknowledged / seconds, 1),
        "acknowledgement_p50_ms": round(1000 * _percentile(soak.latencies, 50), 1),
        "acknowledgement_p99_ms": round(1000 * _percentile(soak.latencies, 99), 1),
        "retried_sends": len(soak.record.retried),
        "answered_503": soak.record.statuses[503],
        "unexpected_answers": len(soak.record.unexpected),
        "hung_requests": soak.record.hangs,
        "relogins": soak.relogins,
        "faults_injected": len(injected),
        "lost": len(found.lost),
        "duplicated": len(found.duplicated),
        "republished": len(found.republished),
        "chats_out_of_order": len(out_of_order),
        "faults": [asdict(i) for i in injected],
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k != "faults"}, indent=2))
    assert injected, "the run ended before the first fault: nothing tested"
    assert found.missing_from_history == set(), "acknowledged, not in the history"
    assert found.missing_from_firestore == set(), "acknowledged, not in Firestore"
    assert found.duplicated == set(), "duplicated"
    assert out_of_order == [], "a chat's history out of send order"
    assert soak.record.unexpected == [], "answers a client must never get"
    assert soak.record.hangs == 0, f"requests hung past {REQUEST_TIMEOUT} s"
