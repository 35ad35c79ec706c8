"""The aggregator's CPU per message under steady traffic from many senders, A/B between builds.

Every build's aggregator (`--variant NAME=PATH`, the path of a build's `aggregator` script;
the workspace's by default) runs at the same time, each with its own consumer group, output
topic and transactional id, all reading one scratch input topic of 24 partitions, as the send
benchmark's topic has (`--partitions 6 24` measures each count in turn, on fresh topics). The
benchmark then produces `--rate` messages a second for `--seconds`, from `--keys` (chat,
sender) pairs in turn (the chat service's event format, keyed by chat), so that buffers open,
fill, fall idle and close as they do under `send_wrk.py`. 400 keys are about 67 a partition
of 6, past the cap of 64 open buffers, and about 17 of 24. It waits until every aggregator
has committed every message in bursts, then reads each one's CPU from /proc since the first
message, its bursts (one Firestore document each downstream), why they closed and its
committed transactions.

The builds share the two cores, so the figure to compare is CPU per message (the first build
is the baseline), not speed; the producer's own CPU per message is the load generator's cost.

    uv run python bench/aggregator_cpu.py --variant before=../old/.venv/bin/aggregator \\
        --variant after=.venv/bin/aggregator [--keys 400] [--rate 600] [--seconds 30]

Needs Kafka of the running stack (`make up`). Prints a table and writes
bench/results/aggregator_cpu.json.
"""

import argparse
import asyncio
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from harness import (
    BIN,
    PARTITIONS,
    aggregator_environment,
    metric,
    metric_sum,
    stage,
    wait_for_metric,
    write_result,
)
from load_generator import cpu_seconds

from chat_events import MessageEvent, new_timeuuid, timeuuid_datetime
from devstack.kafka_topics import create_topics, delete_topics
from devstack.settings import StackSettings

REASONS = ("max_messages", "idle", "max_latency", "capacity")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variant", action="append", help="NAME=path/to/aggregator")
    parser.add_argument("--keys", type=int, default=400)
    parser.add_argument("--rate", type=float, default=600, help="messages a second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument(
        "--partitions",
        type=int,
        nargs="+",
        default=[PARTITIONS],
        help="of the input topic; several counts are measured one after another",
    )
    args = parser.parse_args()
    variants = dict(v.split("=", 1) for v in args.variant or [f"current={BIN / 'aggregator'}"])
    servers = StackSettings().endpoints.kafka_bootstrap_servers
    rows: dict[str, dict[str, Any]] = {}
    for partitions in args.partitions:
        for name, row in _measure_on_fresh_topics(variants, servers, partitions, args).items():
            rows[f"{name}, {partitions} partitions"] = row
    _print_table(rows)
    config = {"keys": args.keys, "rate": args.rate, "seconds": args.seconds}
    write_result(
        "aggregator_cpu",
        config | {"partitions": args.partitions, "variants": variants, "rows": rows},
    )


def _measure_on_fresh_topics(
    variants: dict[str, str], servers: str, partitions: int, args: argparse.Namespace
) -> dict[str, dict[str, Any]]:
    tag = uuid.uuid4().hex[:8]
    source = f"bench_agg_in_{tag}"
    sinks = {name: f"bench_agg_out_{tag}_{name}" for name in variants}
    asyncio.run(create_topics(servers, [source, *sinks.values()], partitions))
    try:
        return _measure(variants, servers, source, sinks, tag, args)
    finally:
        asyncio.run(delete_topics(servers, [source, *sinks.values()]))


def _measure(
    variants: dict[str, str],
    servers: str,
    source: str,
    sinks: dict[str, str],
    tag: str,
    args: argparse.Namespace,
) -> dict[str, dict[str, Any]]:
    with ExitStack() as stack:
        subjects = {}
        for name, script in variants.items():
            env = aggregator_environment(servers, source, sinks[name], f"agg-{tag}-{name}")
            metrics, process = stack.enter_context(stage(Path(script), "AGGREGATOR_HTTP_PORT", env))
            subjects[name] = (process, metrics)
        before = {name: cpu_seconds(process.pid) for name, (process, _) in subjects.items()}
        produced, producer_cpu = asyncio.run(_produce(servers, source, args))
        rows = {}
        for name, (process, url) in subjects.items():
            wait_for_metric(url, "aggregator_messages_out_total", produced)
            used = cpu_seconds(process.pid) - before[name]
            bursts = metric(url, "aggregator_bursts_out_total")
            rows[name] = {
                "messages": produced,
                "cpu_ms_per_message": 1000 * used / produced,
                "bursts": bursts,
                "messages_per_burst": produced / bursts,
                "transactions": metric_sum(
                    url, "aggregator_transactions_total", outcome="committed"
                ),
                "closed_by": {
                    r: metric_sum(url, "aggregator_flush_total", reason=r) for r in REASONS
                },
            }
        rows["producer (load generator)"] = {
            "messages": produced,
            "cpu_ms_per_message": 1000 * producer_cpu / produced,
        }
        return rows


async def _produce(servers: str, topic: str, args: argparse.Namespace) -> tuple[int, float]:
    """`rate` messages a second for `seconds`, the keys in turn; the count and this process's
    CPU seconds spent producing them."""
    keys = [(uuid.uuid4(), str(2 * n), str(2 * n + 1)) for n in range(args.keys)]
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all", enable_idempotence=True)
    await producer.start()
    started_cpu, started = time.process_time(), time.monotonic()
    total = int(args.rate * args.seconds)
    try:
        pending = []
        for n in range(total):
            await asyncio.sleep(max(0.0, started + n / args.rate - time.monotonic()))
            chat, sender, partner = keys[n % len(keys)]
            event = _event(chat, sender, partner, n)
            pending.append(await producer.send(topic, event, key=str(chat).encode()))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return total, time.process_time() - started_cpu


def _event(chat: uuid.UUID, sender: str, partner: str, number: int) -> bytes:
    time_ = new_timeuuid()
    return (
        MessageEvent(
            message_id=uuid.uuid4(),
            chat_id=chat,
            from_user=sender,
            to_user=partner,
            body=f"message {number}",
            time=time_,
            time_iso=timeuuid_datetime(time_),
            client_message_id=str(number),
            users_id=sorted([sender, partner]),
        )
        .model_dump_json()
        .encode()
    )


def _print_table(rows: dict[str, dict[str, Any]]) -> None:
    base = next(iter(rows.values()))["cpu_ms_per_message"]
    print("CPU ms per message; bursts closed by max_messages / idle / max_latency / capacity")
    columns = (
        f"{'messages':>8} {'CPU ms':>7} {'vs base':>8} {'bursts':>7} {'msg/burst':>9}"
        f" {'transactions':>12}"
    )
    print(f"{'build':<34} {columns}  closed by")
    for name, row in rows.items():
        cpu = row["cpu_ms_per_message"]
        line = f"{name:<34} {row['messages']:>8} {cpu:>7.3f} {cpu / base:>7.2f}x"
        if "bursts" in row:
            closed = " / ".join(f"{row['closed_by'][r]:.0f}" for r in REASONS)
            line += f" {row['bursts']:>7.0f} {row['messages_per_burst']:>9.2f}"
            line += f" {row['transactions']:>12.0f}  {closed}"
        print(line)


if __name__ == "__main__":
    main()
