"""What messages, edits, read marks and typing cost in Firestore, per event kind, before and
after, beside the one-document-per-event baseline.

The whole pipeline (auth, chat, aggregator, consumer) runs on a scratch database, keyspace,
topics and Firestore project. Every member of every chat holds the listeners its browser holds:
the query on the chat's burst documents (`members array-contains me`, ordered by
`changed_iso`) and a listener on the other member's read mark. Counted:

- writes: the consumer's Firestore writes by kind (`consumer_firestore_writes_total`), and the
  typing documents' writes seen by a listener of their own;
- reads: every document a listener receives (added or modified), which is what Firestore
  bills a listener for, plus the consumer's own reads (`consumer_firestore_reads_total`: an
  edit's query for the documents that hold the message).

Scenarios, one after the other:
1. messages: `--chats` conversations at once, members taking turns, 1-4 messages a turn;
2. edits: a third of the messages edited after their bursts were written;
3. reading each other: for `--read-seconds`, in every chat one member sends a message a second
   and the other marks the chat read up to each one as soon as it is acknowledged (the most a
   reader can ask for), the roles swapped half-way; per hour of two members;
4. typing (`--ui URL`, the UI of the running stack): one member types into the real UI in
   Chromium for `--typing-seconds`, a key every 150 ms; its typing document's writes are counted.

"before" is the previous build's aggregator and consumer (`--before-bin`, the folder holding
its `aggregator` and `aggregated-consumer` scripts) reading the same messages with the query it
served (`latest_message_time_iso`): edits, read marks and typing did not reach Firestore then.

    uv run python bench/change_costs.py [--chats 6] [--turns 12] \\
        [--before-bin ../before/.venv/bin] [--ui http://127.0.0.1:3000]

Needs the running stack (`make up`). Prints a table and writes bench/results/change_costs.json.
"""

import argparse
import asyncio
import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from harness import (
    BIN,
    auth_and_chats,
    make_pairs,
    metric_sum,
    pipeline,
    scratch_environment,
    stage,
    write_result,
)

from chat_events import iso_with_offset
from devstack.settings import StackSettings


@dataclass
class Listeners:
    """Firestore listeners as the browsers hold them, counting the documents they receive."""

    client: Any
    query_field: str
    received: Counter[str] = field(default_factory=Counter)
    watches: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def watch_chat(self, chat_id: str, member: str, since: str) -> None:
        bursts = (
            self.client.collection(f"chats/{chat_id}/aggregates")
            .where(filter=FieldFilter("members", "array_contains", member))
            .where(filter=FieldFilter(self.query_field, ">=", since))
            .order_by(self.query_field)
        )

        def on_bursts(_docs: Any, changes: Any, _at: Any) -> None:
            with self.lock:
                self.received["bursts"] += sum(1 for c in changes if c.type.name != "REMOVED")

        self.watches.append(bursts.on_snapshot(on_bursts))

    def watch_read_mark(self, chat_id: str, other: str) -> None:
        def on_mark(docs: Any, _changes: Any, _at: Any) -> None:
            with self.lock:
                self.received["reads"] += sum(1 for d in docs if d.exists)

        document = self.client.document(f"chats/{chat_id}/reads/{other}")
        self.watches.append(document.on_snapshot(on_mark))

    def close(self) -> None:
        for watch in self.watches:
            watch.unsubscribe()
        self.client.close()


@contextmanager
def listeners(project: str, query_field: str) -> Iterator[Listeners]:
    client = firestore.Client(project=project, credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
    held = Listeners(client, query_field)
    try:
        yield held
    finally:
        held.close()


async def converse(
    chat_url: str, pairs: list[dict[str, Any]], turns: int, rng: random.Random
) -> list[dict[str, Any]]:
    """Every chat at once: members take turns of 1-4 messages, 0.3 s apart, 1-2 s between
    turns. Returns the messages sent, each with its author's headers."""
    sent: list[dict[str, Any]] = []

    async def chat(a: dict[str, Any], b: dict[str, Any]) -> None:
        async with httpx.AsyncClient(base_url=chat_url, timeout=30) as client:
            for turn in range(turns):
                sender = (a, b)[turn % 2]
                for n in range(rng.randint(1, 4)):
                    body = {
                        "chat_id": sender["chat_id"],
                        "to_user": sender["to"],
                        "body": f"{turn}.{n}",
                    }
                    response = await client.post(
                        "/chat/api/v1/messaging/", json=body, headers=sender["headers"]
                    )
                    response.raise_for_status()
                    sent.append({**response.json(), "headers": sender["headers"]})
                    await asyncio.sleep(0.3)
                await asyncio.sleep(rng.uniform(1.0, 2.0))

    await asyncio.gather(*(chat(a, b) for a, b in zip(pairs[::2], pairs[1::2], strict=True)))
    return sent


async def read_each_other(chat_url: str, pairs: list[dict[str, Any]], seconds: float) -> int:
    """Per chat, a message a second from one member, each marked read by the other at once;
    the roles swap half-way. Returns the read marks posted."""
    posted = 0

    async def chat(a: dict[str, Any], b: dict[str, Any]) -> None:
        nonlocal posted
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=chat_url, timeout=30) as client:
            while (elapsed := time.monotonic() - started) < seconds:
                sender, reader = (a, b) if elapsed < seconds / 2 else (b, a)
                body = {"chat_id": sender["chat_id"], "to_user": sender["to"], "body": "read me"}
                sent = await client.post(
                    "/chat/api/v1/messaging/", json=body, headers=sender["headers"]
                )
                sent.raise_for_status()
                read = await client.post(
                    f"/chat/api/v1/chat/{reader['chat_id']}/read",
                    json={"up_to": sent.json()["time"]},
                    headers=reader["headers"],
                )
                read.raise_for_status()
                posted += 1
                await asyncio.sleep(1.0)

    await asyncio.gather(*(chat(a, b) for a, b in zip(pairs[::2], pairs[1::2], strict=True)))
    return posted


async def edit_some(chat_url: str, sent: list[dict[str, Any]], share: float) -> int:
    """Edits `share` of the sent messages, each by its author; returns how many."""
    chosen = sent[:: round(1 / share)]
    async with httpx.AsyncClient(base_url=chat_url, timeout=30) as client:
        for message in chosen:
            url = f"/chat/api/v1/chat/{message['chat_id']}/messages/{message['time']}"
            response = await client.patch(
                url, json={"body": f"{message['body']} (edited)"}, headers=message["headers"]
            )
            response.raise_for_status()
    return len(chosen)


def writes(consumer_metrics: str, *kinds: str) -> float:
    return sum(
        metric_sum(consumer_metrics, "consumer_firestore_writes_total", kind=kind) for kind in kinds
    )


def consumer_reads(consumer_metrics: str, *kinds: str) -> float:
    return sum(
        metric_sum(consumer_metrics, "consumer_firestore_reads_total", kind=kind) for kind in kinds
    )


def settle(condition: Callable[[], bool], within: float = 60) -> None:
    """Waits until `condition` holds, or `within` seconds."""
    deadline = time.monotonic() + within
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.25)


@contextmanager
def before_pipeline(env: dict[str, str], before_bin: Path) -> Iterator[str]:
    """The previous build's stages on the same input topic, with groups, output topic and
    Firestore project of their own; yields that project."""
    tag = uuid.uuid4().hex[:8]
    project = f"demo-before-{tag}"
    grouped = f"bench_before_bursts_{tag}"
    from devstack.kafka_topics import create_topics, delete_topics

    stack = StackSettings().endpoints
    asyncio.run(create_topics(stack.kafka_bootstrap_servers, [grouped], 6))
    # An earlier build reads the consumer's variables under their former prefix, CONSUMER_.
    old = env | {
        "AGGREGATOR_OUTPUT_TOPIC": grouped,
        "AGGREGATOR_GROUP_ID": f"bench-before-aggregator-{tag}",
        "AGGREGATOR_TRANSACTIONAL_ID": f"bench-before-aggregator-{tag}",
        "CONSUMER_INPUT_TOPIC": grouped,
        "CONSUMER_GROUP_ID": f"bench-before-consumer-{tag}",
        "CONSUMER_FIREBASE_PROJECT": project,
    }
    try:
        with (
            stage(str(before_bin / "aggregator"), "AGGREGATOR_HTTP_PORT", old),
            stage(str(before_bin / "aggregated-consumer"), "CONSUMER_HTTP_PORT", old),
        ):
            yield project
    finally:
        asyncio.run(delete_topics(stack.kafka_bootstrap_servers, [grouped]))


def measure_pipeline(args: argparse.Namespace) -> dict[str, Any]:
    stack = StackSettings().endpoints
    # This process's own Firestore clients (the listeners) talk to the emulator too.
    os.environ["FIRESTORE_EMULATOR_HOST"] = stack.firestore_emulator_host
    rng = random.Random(7)
    with ExitStack() as running:
        env = running.enter_context(scratch_environment(stack))
        env["CHAT_CHANGE_RATE_PER_MINUTE"] = "1000000"
        auth_url, chats = running.enter_context(
            auth_and_chats(env, {"current": str(BIN / "chat-service")})
        )
        chat_url = chats["current"][0]
        stages = running.enter_context(pipeline(env))
        consumer = stages["consumer"][0]
        before_project = (
            running.enter_context(before_pipeline(env, Path(args.before_bin)))
            if args.before_bin
            else None
        )
        pairs = asyncio.run(make_pairs(auth_url, chat_url, args.chats * 2))
        since = iso_with_offset(datetime.now(UTC))
        now = running.enter_context(
            listeners(env["AGGREGATED_CONSUMER_FIREBASE_PROJECT"], "changed_iso")
        )
        then = (
            running.enter_context(listeners(before_project, "latest_message_time_iso"))
            if before_project
            else None
        )
        for user in pairs:
            now.watch_chat(user["chat_id"], user["id"], since)
            now.watch_read_mark(user["chat_id"], user["to"])
            if then:
                then.watch_chat(user["chat_id"], user["id"], since)

        sent = asyncio.run(converse(chat_url, pairs, args.turns, rng))
        settle(lambda: writes(consumer, "burst") > 0 and _quiet(now))
        messages = {
            "events": len(sent),
            "writes": writes(consumer, "burst"),
            "reads": now.received["bursts"],
            "before_writes": _documents(before_project) if before_project else None,
            "before_reads": then.received["bursts"] if then else None,
            "listeners": 2,
        }
        marks_before = (writes(consumer, "read"), now.received["reads"])
        started = time.monotonic()
        posted = asyncio.run(read_each_other(chat_url, pairs, args.read_seconds))
        reading_s = time.monotonic() - started
        settle(lambda: _quiet(now, 6.0))
        marks = {
            "events": posted,
            "writes": writes(consumer, "read") - marks_before[0],
            "reads": now.received["reads"] - marks_before[1],
            "listeners": 1,
            "seconds": reading_s,
            "pairs": args.chats,
        }
        bursts_before = now.received["bursts"]
        edited = asyncio.run(edit_some(chat_url, sent, 1 / 3))
        settle(lambda: writes(consumer, "edit") >= edited and _quiet(now))
        edits = {
            "events": edited,
            "writes": writes(consumer, "edit"),
            "reads": now.received["bursts"] - bursts_before + consumer_reads(consumer, "edit"),
            "consumer_reads": consumer_reads(consumer, "edit"),
            "listeners": 2,
        }
    return {"messages": messages, "read marks": marks, "edits": edits}


def _quiet(held: Listeners, for_seconds: float = 2.0) -> bool:
    before = sum(held.received.values())
    time.sleep(for_seconds)
    return sum(held.received.values()) == before


def _documents(project: str) -> int:
    client = firestore.Client(project=project, credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
    try:
        return sum(1 for _ in client.collection_group("aggregates").stream())
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=6)
    parser.add_argument("--turns", type=int, default=12)
    parser.add_argument("--read-seconds", type=float, default=60)
    parser.add_argument("--before-bin", help="folder of the previous build's stage scripts")
    parser.add_argument("--ui", help="the running stack's UI, for the typing scenario")
    parser.add_argument("--typing-seconds", type=float, default=60)
    args = parser.parse_args()
    figures = measure_pipeline(args)
    print_costs(figures)
    if args.ui:
        from typing_costs import measure_typing

        figures["typing"] = measure_typing(args.ui, args.typing_seconds)
    print_costs(figures)
    write_result("change_costs", {"figures": figures, "args": vars(args)})


def print_costs(figures: dict[str, dict[str, Any]]) -> None:
    """Per 1,000 messages, per 1,000 edits, per hour of two members reading each other, per
    minute of typing: Firestore writes and listener reads now, before, and with one document
    per event."""
    print(f"{'per':<34} {'writes':>8} {'reads':>8} {'before w/r':>13} {'1 doc/event w/r':>17}")
    for name, row in figures.items():
        unit, scale = _unit(name, row)
        baseline_writes = row["events"] * scale
        before = (
            f"{row['before_writes'] * scale:.0f}/{row['before_reads'] * scale:.0f}"
            if row.get("before_writes") is not None
            else "none"
        )
        print(
            f"{unit:<34} {row['writes'] * scale:>8.0f} {row['reads'] * scale:>8.0f} "
            f"{before:>13} {baseline_writes:>8.0f}/{baseline_writes * row['listeners']:<8.0f}"
        )


def _unit(name: str, row: dict[str, Any]) -> tuple[str, float]:
    if name == "read marks":
        return "hour of two members chatting", 3600 / row["seconds"] / row["pairs"]
    if name == "typing":
        return "minute of typing", 60 / row["seconds"]
    return f"1,000 {name}", 1000 / max(1, row["events"])


if __name__ == "__main__":
    main()
