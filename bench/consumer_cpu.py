"""The consumer's CPU per message under steady traffic of bursts, A/B between builds.

Every build's consumer (`--variant NAME=PATH`, the path of a build's `aggregated-consumer`
script; the workspace's by default) runs at the same time, each with its own consumer group,
dead-letter topic and Firestore project of the emulator, all reading one scratch topic of
bursts (24 partitions, as the send benchmark's). The benchmark then produces `--rate` bursts
a second for `--seconds`, each of `--size` messages (about what the aggregator closes under
`send_wrk.py`) from one of `--chats` chats, in the aggregator's format. It waits until every
consumer has written every message, then reads each one's CPU from /proc since the first
burst, its documents and Firestore commits.

The builds share the two cores, so the figure to compare is CPU per message (the first build
is the baseline), not speed. The emulator serves every build: its CPU per document is given
once, for all of them together; the producer's own CPU per message is the load generator's
cost.

    uv run python bench/consumer_cpu.py --variant before=../old/.venv/bin/aggregated-consumer \\
        --variant after=.venv/bin/aggregated-consumer [--rate 100] [--size 6] [--seconds 30]

Needs Kafka and the Firestore emulator of the running stack (`make up`). Prints a table and
writes bench/results/consumer_cpu.json.
"""

import argparse
import asyncio
import os
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from harness import (
    BIN,
    PARTITIONS,
    delete_documents,
    metric,
    metric_sum,
    stack_pid,
    stage,
    wait_for_metric,
    write_result,
)
from load_generator import cpu_seconds

from chat_events import MessageEvent, burst_from_messages, new_timeuuid, timeuuid_datetime
from devstack.kafka_topics import create_topics, delete_topics
from devstack.settings import Endpoints, StackSettings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variant", action="append", help="NAME=path/to/aggregated-consumer")
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--rate", type=float, default=100, help="bursts a second")
    parser.add_argument("--size", type=int, default=6, help="messages a burst")
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    default = f"current={BIN / 'aggregated-consumer'}"
    variants = dict(v.split("=", 1) for v in args.variant or [default])
    stack = StackSettings().endpoints
    tag = uuid.uuid4().hex[:8]
    source = f"bench_consumer_in_{tag}"
    dead_letters = {name: f"bench_consumer_dlq_{tag}_{name}" for name in variants}
    topics = [source, *dead_letters.values()]
    projects = {name: f"demo-bench-{tag}-{name}" for name in variants}
    asyncio.run(create_topics(stack.kafka_bootstrap_servers, topics, PARTITIONS))
    try:
        rows = _measure(variants, stack, source, dead_letters, projects, tag, args)
    finally:
        asyncio.run(delete_topics(stack.kafka_bootstrap_servers, topics))
        for project in projects.values():
            delete_documents(stack, project)
    _print_table(rows)
    config = {"chats": args.chats, "rate": args.rate, "size": args.size, "seconds": args.seconds}
    write_result("consumer_cpu", config | {"variants": variants, "rows": rows})


def _measure(
    variants: dict[str, str],
    stack: Endpoints,
    source: str,
    dead_letters: dict[str, str],
    projects: dict[str, str],
    tag: str,
    args: argparse.Namespace,
) -> dict[str, dict[str, Any]]:
    with ExitStack() as running:
        subjects = {}
        for name, script in variants.items():
            env = {
                **os.environ,
                **stack.as_environment(),
                "APP_ENV": "test",
                "AGGREGATED_CONSUMER_INPUT_TOPIC": source,
                "AGGREGATED_CONSUMER_DEAD_LETTER_TOPIC": dead_letters[name],
                "AGGREGATED_CONSUMER_GROUP_ID": f"bench-consumer-{tag}-{name}",
                "AGGREGATED_CONSUMER_FIREBASE_PROJECT": projects[name],
                "AGGREGATED_CONSUMER_LOG_LEVEL": "WARNING",
            }
            url, process = running.enter_context(
                stage(Path(script), "AGGREGATED_CONSUMER_HTTP_PORT", env)
            )
            subjects[name] = (process, url)
        emulator = stack_pid("firestore")
        before = {name: cpu_seconds(process.pid) for name, (process, _) in subjects.items()}
        emulator_before = cpu_seconds(emulator)
        bursts, producer_cpu = asyncio.run(_produce(stack.kafka_bootstrap_servers, source, args))
        messages = bursts * args.size
        rows = {}
        for name, (process, url) in subjects.items():
            wait_for_metric(url, "consumer_messages_written_total", messages)
            used = cpu_seconds(process.pid) - before[name]
            rows[name] = {
                "messages": messages,
                "cpu_ms_per_message": 1000 * used / messages,
                "documents": metric(url, "consumer_documents_written_total"),
                "commits": metric_sum(url, "consumer_firestore_commits_total", outcome="committed"),
            }
        documents = sum(row["documents"] for row in rows.values())
        rows["firestore emulator (all builds)"] = {
            "messages": messages * len(subjects),
            "cpu_ms_per_message": 1000
            * (cpu_seconds(emulator) - emulator_before)
            / (messages * len(subjects)),
            "documents": documents,
        }
        rows["producer (load generator)"] = {
            "messages": messages,
            "cpu_ms_per_message": 1000 * producer_cpu / messages,
        }
        return rows


async def _produce(servers: str, topic: str, args: argparse.Namespace) -> tuple[int, float]:
    """`rate` bursts a second for `seconds`, the chats in turn; the count and this process's
    CPU seconds spent producing them."""
    chats = [uuid.uuid4() for _ in range(args.chats)]
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all", enable_idempotence=True)
    await producer.start()
    started_cpu, started = time.process_time(), time.monotonic()
    total = int(args.rate * args.seconds)
    try:
        pending = []
        for n in range(total):
            await asyncio.sleep(max(0.0, started + n / args.rate - time.monotonic()))
            chat = chats[n % len(chats)]
            burst = _burst(chat, n, args.size)
            pending.append(await producer.send(topic, burst, key=str(chat).encode()))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return total, time.process_time() - started_cpu


def _burst(chat: uuid.UUID, number: int, size: int) -> bytes:
    sender, partner = "1", "2"
    messages = []
    for position in range(size):
        time_ = new_timeuuid()
        messages.append(
            MessageEvent(
                message_id=uuid.uuid4(),
                chat_id=chat,
                from_user=sender,
                to_user=partner,
                body=f"message {number}.{position}",
                time=time_,
                time_iso=timeuuid_datetime(time_),
                client_message_id=f"{number}.{position}",
                users_id=[sender, partner],
            )
        )
    return burst_from_messages(messages, origin=f"0-{number}").model_dump_json().encode()


def _print_table(rows: dict[str, dict[str, Any]]) -> None:
    base = next(iter(rows.values()))["cpu_ms_per_message"]
    print("CPU ms per message (a message is one entry of a burst document)")
    columns = f"{'messages':>8} {'CPU ms':>7} {'vs base':>8} {'documents':>9} {'commits':>8}"
    print(f"{'build':<34} {columns}")
    for name, row in rows.items():
        cpu = row["cpu_ms_per_message"]
        line = f"{name:<34} {row['messages']:>8} {cpu:>7.3f} {cpu / base:>7.2f}x"
        if "documents" in row:
            line += f" {row['documents']:>9.0f}"
        if "commits" in row:
            line += f" {row['commits']:>8.0f}"
        print(line)


if __name__ == "__main__":
    main()
