"""Firestore documents written per chat message, and send-to-Firestore latency, per window policy.

Runs against the running stack with topics and Firestore projects of its own. The same traffic
goes through two complete pipelines (aggregator + consumer) side by side:

- ours:     a burst closes at 10 messages, 3 s idle or 5 s after it opened;
- original: 10 messages or 3 s idle, no maximum latency (the baseline).

Two traffic shapes, one after the other: bursty senders (bursts of 3-15 messages, pauses of
5-10 s) and steady senders (one message per second each). Latency is measured from the send
to the Firestore commit (the document's server timestamp).

    uv run python bench/aggregation_writes.py [--seconds 60] [--senders 6]
"""

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore
from harness import free_port

from chat_events import MessageEvent
from devstack.kafka_topics import create_topics, delete_topics
from devstack.settings import Endpoints, StackSettings

RESULTS = Path(__file__).parent / "results"
BIN = Path(sys.executable).parent
POLICIES = {"ours": "5", "original": "0"}  # AGGREGATOR_MAX_LATENCY (0 = no limit)
BASELINE = "original"


@dataclass
class Row:
    scenario: str
    policy: str
    messages: int
    documents: int
    documents_per_message: float
    p50_latency_s: float
    p99_latency_s: float


def _start(command: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(BIN / command), "run"], env={**os.environ, **env}, stdout=out, stderr=out
        )


def _pipeline(
    stack: Endpoints, run_id: str, policy: str, max_latency: str, logs: Path
) -> tuple[list[subprocess.Popen[bytes]], dict[str, str]]:
    names = {
        "in": f"bench_in_{run_id}",
        "out": f"bench_out_{run_id}_{policy}",
        "dlq": f"bench_dlq_{run_id}_{policy}",
        "project": f"demo-bench-{run_id}-{policy}",
    }
    common = {"KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap_servers, "LOG_LEVEL": "WARNING"}
    aggregator = {
        **common,
        "AGGREGATOR_INPUT_TOPIC": names["in"],
        "AGGREGATOR_OUTPUT_TOPIC": names["out"],
        "AGGREGATOR_GROUP_ID": f"bench-aggregator-{run_id}-{policy}",
        "AGGREGATOR_TRANSACTIONAL_ID": f"bench-aggregator-{run_id}-{policy}",
        "AGGREGATOR_MAX_MESSAGES": "10",
        "AGGREGATOR_IDLE_TIMEOUT": "3",
        "AGGREGATOR_MAX_LATENCY": max_latency,
        "AGGREGATOR_HTTP_PORT": str(free_port()),
        "AGGREGATOR_LOG_LEVEL": "WARNING",
    }
    consumer = {
        **common,
        "FIRESTORE_EMULATOR_HOST": stack.firestore_emulator_host,
        "AGGREGATED_CONSUMER_INPUT_TOPIC": names["out"],
        "AGGREGATED_CONSUMER_DEAD_LETTER_TOPIC": names["dlq"],
        "AGGREGATED_CONSUMER_GROUP_ID": f"bench-consumer-{run_id}-{policy}",
        "AGGREGATED_CONSUMER_FIREBASE_PROJECT": names["project"],
        "AGGREGATED_CONSUMER_HTTP_PORT": str(free_port()),
        "AGGREGATED_CONSUMER_LOG_LEVEL": "WARNING",
    }
    processes = [
        _start("aggregator", aggregator, logs / f"aggregator-{policy}.log"),
        _start("aggregated-consumer", consumer, logs / f"consumer-{policy}.log"),
    ]
    return processes, names


def _message(chat: uuid.UUID, sender: str, other: str, n: int) -> MessageEvent:
    return MessageEvent(
        message_id=uuid.uuid4(),
        chat_id=chat,
        from_user=sender,
        to_user=other,
        body=f"message {n}",
        time=uuid.uuid1(),
        time_iso=datetime.now(UTC),
        users_id=sorted([sender, other]),
    )


async def _sender(
    producer: AIOKafkaProducer, topic: str, seconds: float, bursty: bool, rng: random.Random
) -> tuple[uuid.UUID, int]:
    """One sender in a chat of their own; returns the chat id and how many messages it sent."""
    chat, me, other = uuid.uuid4(), str(rng.randint(1000, 9999)), str(rng.randint(10000, 99999))
    sent, deadline = 0, time.monotonic() + seconds
    await asyncio.sleep(rng.uniform(0, 5 if bursty else 1))  # senders out of phase
    while time.monotonic() < deadline:
        size = rng.randint(3, 15) if bursty else 1
        for _ in range(size):
            message = _message(chat, me, other, sent)
            await producer.send_and_wait(
                topic, message.model_dump_json().encode(), key=str(chat).encode()
            )
            sent += 1
            await asyncio.sleep(rng.uniform(0.1, 0.6) if bursty else 1.0)
        if bursty:
            await asyncio.sleep(rng.uniform(5, 10))
    return chat, sent


async def _traffic(
    stack: Endpoints, topic: str, seconds: float, senders: int, bursty: bool
) -> dict[str, int]:
    producer = AIOKafkaProducer(
        bootstrap_servers=stack.kafka_bootstrap_servers, acks="all", enable_idempotence=True
    )
    await producer.start()
    rng = random.Random(42 if bursty else 43)
    try:
        results = await asyncio.gather(
            *(_sender(producer, topic, seconds, bursty, rng) for _ in range(senders))
        )
    finally:
        await producer.stop()
    return {str(chat): sent for chat, sent in results}


def _documents(project: str, chats: dict[str, int]) -> list[dict[str, Any]]:
    client = firestore.Client(project=project, credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
    try:
        docs = []
        for chat in chats:
            docs += [d.to_dict() for d in client.collection(f"chats/{chat}/aggregates").stream()]
        return docs
    finally:
        client.close()


def _row(scenario: str, policy: str, docs: list[dict[str, Any]], expected: int) -> Row:
    latencies = sorted(
        (d["created_at"] - datetime.fromisoformat(m["time_iso"])).total_seconds()
        for d in docs
        for m in d["list_of_messages"]
    )
    messages = sum(d["count"] for d in docs)
    if messages != expected:
        print(f"warning: {scenario}/{policy}: {messages} of {expected} messages in Firestore")
    q = statistics.quantiles(latencies, n=100)
    return Row(scenario, policy, messages, len(docs), len(docs) / max(messages, 1), q[49], q[98])


async def _wait_complete(projects: dict[str, str], chats: dict[str, int], within: float) -> None:
    expected = sum(chats.values())
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        counts = [
            sum(d["count"] for d in await asyncio.to_thread(_documents, p, chats))
            for p in projects.values()
        ]
        if all(c >= expected for c in counts):
            return
        await asyncio.sleep(1)


async def _warm_up(stack: Endpoints, topic: str, projects: dict[str, str]) -> None:
    """One message through both pipelines before measuring: group joins, first transactions
    and freshly created topics' first writes are start-up costs, not steady-state latency."""
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        message = _message(uuid.uuid4(), "1", "2", 0)
        await producer.send_and_wait(topic, message.model_dump_json().encode(), key=b"warm-up")
    finally:
        await producer.stop()
    await _wait_complete(projects, {str(message.chat_id): 1}, within=120)
    await asyncio.sleep(5)  # let any retry backlog of the start drain


def _print(rows: list[Row]) -> None:
    header = (
        f"{'scenario':<8} {'policy':<9} {'msgs':>6} {'docs':>6} {'docs/msg':>9} "
        f"{'vs orig':>8} {'p50 s':>7} {'p99 s':>7}"
    )
    print(header)
    print("-" * len(header))
    base = {r.scenario: r for r in rows if r.policy == BASELINE}
    for r in rows:
        ratio = r.documents_per_message / base[r.scenario].documents_per_message
        print(
            f"{r.scenario:<8} {r.policy:<9} {r.messages:>6} {r.documents:>6} "
            f"{r.documents_per_message:>9.3f} {ratio:>7.2f}x "
            f"{r.p50_latency_s:>7.2f} {r.p99_latency_s:>7.2f}"
        )


async def main(seconds: float, senders: int) -> None:
    stack = StackSettings().endpoints
    # The Google client finds the emulator through this variable only (reads below).
    os.environ["FIRESTORE_EMULATOR_HOST"] = stack.firestore_emulator_host
    run_id = secrets.token_hex(4)
    logs = RESULTS / f"aggregation_writes-{run_id}-logs"
    logs.mkdir(parents=True, exist_ok=True)
    pipelines = {p: _pipeline(stack, run_id, p, latency, logs) for p, latency in POLICIES.items()}
    topics = [n[k] for _, n in pipelines.values() for k in ("out", "dlq")] + [f"bench_in_{run_id}"]
    await create_topics(stack.kafka_bootstrap_servers, topics, partitions=6)
    projects = {p: names["project"] for p, (_, names) in pipelines.items()}
    rows: list[Row] = []
    try:
        await _warm_up(stack, f"bench_in_{run_id}", projects)
        for scenario, bursty in (("bursty", True), ("steady", False)):
            print(f"{scenario}: {senders} senders for {seconds:.0f} s", flush=True)
            chats = await _traffic(stack, f"bench_in_{run_id}", seconds, senders, bursty)
            await _wait_complete(projects, chats, within=60)
            for policy, project in projects.items():
                docs = await asyncio.to_thread(_documents, project, chats)
                rows.append(_row(scenario, policy, docs, sum(chats.values())))
    finally:
        for processes, _ in pipelines.values():
            for process in processes:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
        await delete_topics(stack.kafka_bootstrap_servers, topics)
    _print(rows)
    result = {
        "run_id": run_id,
        "at": datetime.now(UTC).isoformat(),
        "seconds_per_scenario": seconds,
        "senders": senders,
        "policies": {
            "ours": "10 msgs / 3 s idle / 5 s max latency",
            "original": "10 msgs / 3 s idle",
        },
        "rows": [asdict(r) for r in rows],
    }
    out = RESULTS / f"aggregation_writes-{run_id}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"\nresults: {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60, help="traffic per scenario")
    parser.add_argument("--senders", type=int, default=6)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.senders))
