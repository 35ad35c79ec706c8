"""Resident memory of the aggregator against the number of buffers it holds open.

The real aggregator process runs on a scratch input topic, with the idle timeout at a day and
the maximum latency off, so that no buffer closes on its own. The benchmark produces one message
for each of `--buffers` distinct (chat, sender) pairs straight to that topic (the chat
service's event format, `chat_events.MessageEvent`, with `--body` characters of text), in
steps (a fifth, a half, all of them), and after each step waits until the aggregator has read
every message and holds every buffer (its `aggregator_messages_in_total` and
`aggregator_open_buffers`), then reads its RSS from /proc. The first row, 0 buffers, is the
same process once it owns every partition and before any message.

An aggregator keeps at most 80 buffers open per partition (every open key is written into
the partition's commit metadata), so the input topic gets `buffers / 80` partitions (625 for
50,000) and the messages are spread evenly over them.

Offset commits are deferred by default (`--commit-interval`, a day): no burst closes, so the
aggregator then never commits while the buffers are open. With its own interval of one second
it cannot hold 50,000 buffers at all, whatever its memory: each commit builds the metadata of
every partition by scanning every open buffer (partitions x buffers steps, seconds of blocked
event loop at 10,000 buffers, longer than the 10 s session timeout further on), and the
metadata of all open keys goes into one offset-commit record, which the broker refuses above
1 MiB (about 45,000 keys). `--commit-interval 1 --session-timeout 300` shows both.

Each row also shows the CPU the aggregator spends idle with that many buffers open (its loop
looks at every buffer's deadline twice a second), how fast it read the step's messages, and the
longest its metrics took to answer during the step (they are served from the same event loop,
so that is its longest busy stretch). At the end the aggregator is stopped with SIGTERM: it
flushes every buffer as a burst in one last transaction, and the time it takes to exit is
reported.

    uv run python bench/aggregator_buffers.py [--buffers 50000] [--limit-mb 300] \\
        [--commit-interval 1 --session-timeout 300]

Needs Kafka of the running stack (`make up`). Prints a table and writes
bench/results/aggregator_buffers.json.
"""

import argparse
import asyncio
import math
import re
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from harness import aggregator_environment, stage, write_result
from load_generator import usage

from chat_events import MessageEvent, timeuuid_datetime
from devstack.kafka_topics import create_topics, delete_topics
from devstack.settings import StackSettings

PER_PARTITION = 80
"""The most open buffers per partition the aggregator allows (AGGREGATOR_MAX_OPEN_PER_PARTITION)."""
STEPS = (0.2, 0.5, 1.0)
IDLE_SECONDS = 10.0
SETTLE_SECONDS = 5.0


class Interrupted(Exception):
    """The aggregator stopped holding the buffers before a step was complete."""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--buffers", type=int, default=50_000)
    parser.add_argument("--body", type=int, default=64, help="characters of text per message")
    parser.add_argument("--limit-mb", type=float, default=300)
    parser.add_argument("--commit-interval", type=float, default=24 * 3600, help="seconds")
    parser.add_argument("--session-timeout", type=float, help="seconds (default: the service's)")
    args = parser.parse_args()
    servers = StackSettings().endpoints.kafka_bootstrap_servers
    partitions = math.ceil(args.buffers / PER_PARTITION)
    tag = uuid.uuid4().hex[:8]
    source, sink = f"bench_buffers_in_{tag}", f"bench_buffers_out_{tag}"
    asyncio.run(create_topics(servers, [source], partitions))
    asyncio.run(create_topics(servers, [sink], 1))
    try:
        result = _measure(_environment(servers, source, sink, tag, args), servers, partitions, args)
    finally:
        asyncio.run(delete_topics(servers, [source, sink]))
    _print_table(result, partitions, args)
    config = {
        "buffers": args.buffers,
        "partitions": partitions,
        "body_characters": args.body,
        "limit_mb": args.limit_mb,
        "commit_interval_seconds": args.commit_interval,
        "session_timeout_seconds": args.session_timeout,
    }
    write_result("aggregator_buffers", config | result)


def _environment(
    servers: str, source: str, sink: str, tag: str, args: argparse.Namespace
) -> dict[str, str]:
    env = aggregator_environment(servers, source, sink, f"buffers-{tag}") | {
        "AGGREGATOR_IDLE_TIMEOUT": str(24 * 3600),
        "AGGREGATOR_MAX_LATENCY": "0",
        "AGGREGATOR_MAX_OPEN_BUFFERS": str(args.buffers),
        "AGGREGATOR_MAX_OPEN_PER_PARTITION": str(PER_PARTITION),
        "AGGREGATOR_COMMIT_INTERVAL": str(args.commit_interval),
    }
    if args.session_timeout is not None:
        env["AGGREGATOR_SESSION_TIMEOUT"] = str(args.session_timeout)
    return env


@dataclass
class _Subject:
    """The running aggregator and where its input goes."""

    process: subprocess.Popen[bytes]
    metrics: str
    servers: str
    topic: str
    partitions: int


def _measure(
    env: dict[str, str], servers: str, partitions: int, args: argparse.Namespace
) -> dict[str, Any]:
    """The rows of the table; why the run stopped early, if it did; the shutdown's figures."""
    topic, group = env["AGGREGATOR_INPUT_TOPIC"], env["AGGREGATOR_GROUP_ID"]
    rows: list[dict[str, Any]] = []
    with stage("aggregator", "AGGREGATOR_HTTP_PORT", env) as (metrics, process):
        subject = _Subject(process, metrics, servers, topic, partitions)
        try:
            asyncio.run(_wait_assigned(servers, group))
            _watch(subject, SETTLE_SECONDS)
            rows.append({"buffers": 0, "step_messages": 0} | _at_rest(subject))
            for share in STEPS:
                rows.append(_step(subject, rows[-1]["buffers"], round(args.buffers * share), args))
                print(f"{rows[-1]['buffers']} buffers open", flush=True)
        except Interrupted as why:
            return {"rows": rows, "interrupted": str(why), "shutdown": None}
        shutdown = _stop(process)
    shutdown["committed_messages"] = asyncio.run(_committed(servers, group, topic))
    return {"rows": rows, "interrupted": None, "shutdown": shutdown}


def _step(subject: _Subject, first: int, target: int, args: argparse.Namespace) -> dict[str, Any]:
    """Messages for pairs `first` to `target - 1`; the figures once they are all held."""
    with _PeakRss(subject.process.pid) as peak:
        started = time.monotonic()
        asyncio.run(_produce(subject, range(first, target), args.body))
        stall = _watch(subject, within=900, buffers=target)
        seconds = time.monotonic() - started
        stall = max(stall, _watch(subject, SETTLE_SECONDS))
    row = {"buffers": target, "step_messages": target - first, "step_seconds": seconds}
    at_rest = _at_rest(subject)
    at_rest["longest_stall_seconds"] = max(stall, at_rest["longest_stall_seconds"])
    return row | {"peak_rss_mb": peak.mb} | at_rest


def _at_rest(subject: _Subject) -> dict[str, Any]:
    """RSS now, then the CPU share of an idle stretch with the buffers open."""
    pid = subject.process.pid
    rss_mb = usage({"aggregator": pid})["aggregator"]["rss_mb"]
    before = usage({"aggregator": pid})["aggregator"]["cpu_s"]
    stall = _watch(subject, IDLE_SECONDS)
    idle_cpu = (usage({"aggregator": pid})["aggregator"]["cpu_s"] - before) / IDLE_SECONDS
    return {"rss_mb": rss_mb, "idle_cpu_share": idle_cpu, "longest_stall_seconds": stall}


def _stop(process: subprocess.Popen[bytes]) -> dict[str, Any]:
    """SIGTERM, then the time until the process has flushed its buffers and exited."""
    started = time.monotonic()
    process.terminate()
    try:
        code: int | None = process.wait(timeout=300)
    except subprocess.TimeoutExpired:
        code = None
    return {"seconds": round(time.monotonic() - started, 1), "exit_code": code}


async def _committed(servers: str, group: str, topic: str) -> int:
    """The messages of `topic` that `group` has committed: nothing is committed while the
    buffers are open, so after the shutdown this is the number its last transaction covers."""
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(max(0, o.offset) for tp, o in offsets.items() if tp.topic == topic)


async def _wait_assigned(servers: str, group: str, within: float = 90) -> None:
    """Waits until the aggregator's consumer group is Stable: it owns every partition."""
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            described = await admin.describe_consumer_groups([group])
            if described[0].groups[0][2] == "Stable":  # (error, group, state, ...)
                return
            await asyncio.sleep(0.5)
    finally:
        await admin.close()
    raise RuntimeError(f"the group {group} did not settle within {within:.0f} s")


def _watch(subject: _Subject, within: float, buffers: int | None = None) -> float:
    """Watches the aggregator's metrics for `within` seconds, or until it has read `buffers`
    messages and holds as many buffers; returns the longest they took to answer (they are
    served by the event loop). Raises `Interrupted` when it exits or closes a burst."""
    deadline, stall, held = time.monotonic() + within, 0.0, 0.0
    while time.monotonic() < deadline:
        if subject.process.poll() is not None:
            code = subject.process.returncode
            raise Interrupted(f"the aggregator exited (code {code}) holding {held:.0f} buffers")
        try:
            figures, seconds = _figures(subject.metrics)
        except httpx.HTTPError:
            continue  # exiting: the next turn reads its code
        stall = max(stall, seconds)
        held = figures["aggregator_open_buffers"]
        if figures["aggregator_bursts_out_total"]:
            reasons = {k: v for k, v in figures.items() if k.startswith("aggregator_flush_total")}
            raise Interrupted(f"bursts closed: {reasons}")
        read = figures["aggregator_messages_in_total"]
        if buffers is not None and read >= buffers and held >= buffers:
            return stall
        time.sleep(0.5)
    if buffers is not None:
        raise Interrupted(f"only {held:.0f} buffers open after {within:.0f} s")
    return stall


def _figures(metrics: str) -> tuple[dict[str, float], float]:
    """The aggregator's metrics (labels kept in the name), and how long it took to answer."""
    started = time.monotonic()
    text = httpx.get(metrics, timeout=300).text
    figures = re.findall(r"^(aggregator_[^ ]+) ([\d.e+-]+)$", text, re.MULTILINE)
    return {name: float(value) for name, value in figures}, time.monotonic() - started


async def _produce(subject: _Subject, numbers: range, body: int) -> None:
    """One message per number, each from its own (chat, sender) pair, the n-th to partition
    n mod partitions, so that every partition holds the same number of keys."""
    # A patient producer: while the aggregator commits, it and the broker share two busy cores.
    producer = AIOKafkaProducer(
        bootstrap_servers=subject.servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
        request_timeout_ms=300_000,
    )
    await producer.start()
    try:
        pending = [
            await producer.send(
                subject.topic,
                _event(n, body).model_dump_json().encode(),
                partition=n % subject.partitions,
            )
            for n in numbers
        ]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


def _event(number: int, body: int) -> MessageEvent:
    # User ids are the auth service's integers, as text.
    sender, partner = str(100_000 + 2 * number), str(100_001 + 2 * number)
    sent = uuid.uuid1()
    return MessageEvent(
        message_id=uuid.uuid4(),
        chat_id=uuid.uuid4(),
        from_user=sender,
        to_user=partner,
        body=f"message {number} ".ljust(body, "x"),
        time=sent,
        time_iso=timeuuid_datetime(sent),
        client_message_id=str(uuid.uuid4()),
        users_id=sorted([sender, partner]),
    )


class _PeakRss:
    """The highest RSS of a process, sampled every 0.2 s while the block runs."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.mb = 0.0

    def __enter__(self) -> "_PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.mb = max(self.mb, usage({"p": self._pid})["p"]["rss_mb"])


def _peak(row: dict[str, Any]) -> float:
    peak: float = max(row.get("peak_rss_mb", 0.0), row["rss_mb"])
    return peak


def _print_table(result: dict[str, Any], partitions: int, args: argparse.Namespace) -> None:
    rows = result["rows"]
    baseline = rows[0]["rss_mb"]
    print(
        f"aggregator with open buffers: {partitions} partitions (at most {PER_PARTITION} buffers"
        f" each), {args.body}-character bodies, commits every {args.commit_interval:g} s;"
        " RSS of the process in MB, bytes per buffer above the 0-buffer row"
    )
    print(
        f"{'buffers':>8} {'RSS':>7} {'peak':>7} {'bytes/buffer':>13} {'step msgs/s':>12}"
        f" {'idle CPU':>9} {'stall s':>8}"
    )
    for row in rows:
        per_buffer = (row["rss_mb"] - baseline) * 2**20 / row["buffers"] if row["buffers"] else 0
        rate = row["step_messages"] / row.get("step_seconds", 1)
        print(
            f"{row['buffers']:>8} {row['rss_mb']:>7.1f} {_peak(row):>7.1f}"
            f" {per_buffer:>13,.0f} {rate:>12,.0f} {row['idle_cpu_share']:>9.1%}"
            f" {row.get('longest_stall_seconds', 0.0):>8.1f}"
        )
    top = max(_peak(row) for row in rows)
    verdict = "under" if top < args.limit_mb else "OVER"
    print(f"peak RSS {top:.1f} MB: {verdict} the limit of {args.limit_mb:g} MB")
    if result["interrupted"]:
        print(f"stopped before {args.buffers} buffers: {result['interrupted']}")
        return
    stopped = result["shutdown"]
    print(
        f"SIGTERM with {rows[-1]['buffers']} buffers open: exited after {stopped['seconds']} s"
        f" with code {stopped['exit_code']}; its last transaction (every buffer flushed as a"
        f" burst) committed the offsets of {stopped['committed_messages']} messages"
    )


if __name__ == "__main__":
    main()
