"""What the benchmark scripts share: scratch databases, keyspaces and topics; services started
on spare ports and stopped afterwards; users paired into chats; nearest-rank percentiles; the
command line of a comparison of chat service builds."""

import argparse
import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import redis

from devstack.kafka_topics import create_topics, delete_topics
from devstack.settings import Endpoints
from devstack.testing import admin_sql, database_url, drop_keyspace, free_port

T = TypeVar("T")

__all__ = [
    "BIN",
    "RESULTS",
    "ROOT",
    "admin_sql",
    "auth_and_chats",
    "builds_and_floor",
    "chat_variants",
    "comparison_options",
    "free_port",
    "make_pairs",
    "metric",
    "metric_sum",
    "percentile",
    "pipeline",
    "rotated",
    "running",
    "scratch_environment",
    "serving",
    "stack_pid",
    "stage",
    "wait_for_metric",
    "wait_healthy",
    "write_result",
]

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
PARTITIONS = 24
"""Of each scratch topic: the deployments' default (`KAFKA_PARTITIONS`)."""


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least q % of samples at or below."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def wait_healthy(url: str, process: subprocess.Popen[bytes], within: float = 90) -> None:
    """Waits until `url` answers 200; fails early if the process exits."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the service exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not become healthy within {within:.0f} s")


@contextmanager
def running(
    command: list[str], env: dict[str, str], health_url: str
) -> Iterator[subprocess.Popen[bytes]]:
    """`command` until the block ends, once `health_url` answers 200."""
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        wait_healthy(health_url, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def scratch_environment(stack: Endpoints, partitions: int = PARTITIONS) -> Iterator[dict[str, str]]:
    """Environment for every service on a scratch Postgres database, Cassandra keyspace,
    Kafka topics of `partitions` each and Firestore project (migrated and created here,
    removed afterwards), with the send and sign-up limits raised so the limiter does not cap
    a run."""
    tag = uuid.uuid4().hex[:8]
    database, keyspace = f"bench_auth_{tag}", f"bench_send_{tag}"
    topics = [f"bench_messages_{tag}", f"bench_bursts_{tag}", f"bench_dlq_{tag}"]
    env = {
        **os.environ,
        **stack.as_environment(),
        "APP_ENV": "test",
        "JWT_SECRET": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url(stack, database),
        "AUTH_SIGNUPS_PER_ADDRESS": "100000",
        "AUTH_RATE_LIMIT_PREFIX": f"bench-auth-{tag}",
        "CHAT_RATE_LIMIT_PREFIX": f"bench-chat-{tag}",
        "AUTH_LOG_LEVEL": "WARNING",
        "CHAT_KEYSPACE": keyspace,
        "CHAT_MESSAGES_TOPIC": topics[0],
        "CHAT_SEND_RATE_PER_SECOND": "1000000",
        "CHAT_SEND_BURST": "1000000",
        "CHAT_REPEAT_BODY_LIMIT": "1000000",
        "CHAT_LOG_LEVEL": "WARNING",
        "AGGREGATOR_INPUT_TOPIC": topics[0],
        "AGGREGATOR_OUTPUT_TOPIC": topics[1],
        "AGGREGATOR_GROUP_ID": f"bench-aggregator-{tag}",
        "AGGREGATOR_TRANSACTIONAL_ID": f"bench-aggregator-{tag}",
        "AGGREGATOR_LOG_LEVEL": "WARNING",
        "AGGREGATED_CONSUMER_INPUT_TOPIC": topics[1],
        "AGGREGATED_CONSUMER_DEAD_LETTER_TOPIC": topics[2],
        "AGGREGATED_CONSUMER_GROUP_ID": f"bench-consumer-{tag}",
        "AGGREGATED_CONSUMER_FIREBASE_PROJECT": f"demo-bench-{tag}",
        "AGGREGATED_CONSUMER_LOG_LEVEL": "WARNING",
    }
    admin_sql(stack, f'CREATE DATABASE "{database}"')
    asyncio.run(create_topics(stack.kafka_bootstrap_servers, topics, partitions))
    try:
        subprocess.run([BIN / "auth-service", "migrate"], env=env, cwd=ROOT, check=True)
        subprocess.run([BIN / "chat-service", "migrate"], env=env, cwd=ROOT, check=True)
        yield env
    finally:
        asyncio.run(delete_topics(stack.kafka_bootstrap_servers, topics))
        admin_sql(stack, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        # A benchmark's keyspace holds far more than a test's.
        drop_keyspace(stack, keyspace, timeout=120)
        # Each send leaves its claim in Redis for the claim window (a day): a few runs'
        # would fill it, and a full Redis sends the chat service to its outage path.
        delete_keys(stack.redis_url, env["AUTH_RATE_LIMIT_PREFIX"], env["CHAT_RATE_LIMIT_PREFIX"])
        delete_documents(stack, env["AGGREGATED_CONSUMER_FIREBASE_PROJECT"])


def delete_documents(stack: Endpoints, project: str) -> None:
    """Deletes every document of the emulator's `project`: the emulator keeps them all in its
    heap, and a few runs' bursts fill it."""
    httpx.delete(
        f"http://{stack.firestore_emulator_host}/emulator/v1/projects/{project}"
        "/databases/(default)/documents",
        timeout=120,
    ).raise_for_status()


def delete_keys(url: str, *prefixes: str) -> None:
    """Deletes every Redis key under `prefixes` (`<prefix>:...`)."""
    client = redis.Redis.from_url(url)
    try:
        for prefix in prefixes:
            batch: list[bytes] = []
            for key in client.scan_iter(match=f"{prefix}:*", count=10_000):
                batch.append(key)
                if len(batch) == 10_000:
                    client.unlink(*batch)
                    batch.clear()
            if batch:
                client.unlink(*batch)
    finally:
        client.close()


@contextmanager
def serving(
    script: Path, env: dict[str, str], prefix: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`script serve` on a spare port until the block ends; yields its base URL and process.
    A `.py` script (the floor of `bench/floor/`) runs under this interpreter."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    launcher = [sys.executable] if script.suffix == ".py" else []
    command = [*launcher, str(script), "serve", "--port", str(port)]
    with running(command, env, f"{url}{prefix}/health/") as process:
        yield url, process


@contextmanager
def pipeline(env: dict[str, str]) -> Iterator[dict[str, tuple[str, subprocess.Popen[bytes]]]]:
    """The aggregator and the consumer on the scratch topics of `env`; yields, per stage, the
    URL of its metrics and its process."""
    with (
        stage("aggregator", "AGGREGATOR_HTTP_PORT", env) as aggregator,
        stage("aggregated-consumer", "AGGREGATED_CONSUMER_HTTP_PORT", env) as consumer,
    ):
        yield {"aggregator": aggregator, "consumer": consumer}


@contextmanager
def stage(
    script: str | Path, port_variable: str, env: dict[str, str]
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`script run` (a stream stage: a script of the workspace by name, or a build's by its
    path) with its probes on a spare port until the block ends, once it is ready; yields the
    URL of its metrics and its process."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running([str(BIN / script), "run"], env | {port_variable: str(port)}, f"{url}/ready") as p:
        yield f"{url}/metrics", p


def aggregator_environment(servers: str, source: str, sink: str, name: str) -> dict[str, str]:
    """An aggregator on its own input and output topics, with consumer group and
    transactional id `bench-<name>`, logging warnings only."""
    return {
        **os.environ,
        "APP_ENV": "test",
        "KAFKA_BOOTSTRAP_SERVERS": servers,
        "AGGREGATOR_INPUT_TOPIC": source,
        "AGGREGATOR_OUTPUT_TOPIC": sink,
        "AGGREGATOR_GROUP_ID": f"bench-{name}",
        "AGGREGATOR_TRANSACTIONAL_ID": f"bench-{name}",
        "AGGREGATOR_LOG_LEVEL": "WARNING",
    }


def metric(url: str, name: str) -> float:
    """The value of one unlabelled Prometheus counter or gauge at `url`."""
    found = re.search(rf"^{name} ([\d.e+-]+)$", httpx.get(url, timeout=5).text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def wait_for_metric(url: str, name: str, count: float, within: float = 120) -> None:
    """Until the counter `name` of the metrics at `url` reaches `count`; exits saying so after
    `within` seconds."""
    deadline = time.monotonic() + within
    while metric(url, name) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"{name} at {url} did not reach {count:.0f} in {within:.0f} s")
        time.sleep(0.5)


def metric_sum(url: str, name: str, **labels: str) -> float:
    """The sum of the samples of a labelled Prometheus metric at `url` whose labels include
    `labels` (all of its samples when none are given)."""
    total = 0.0
    pattern = rf"^{name}\{{(.*)\}} ([\d.e+-]+)$"
    for found in re.finditer(pattern, httpx.get(url, timeout=5).text, re.MULTILINE):
        have = dict(re.findall(r'(\w+)="([^"]*)"', found.group(1)))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(found.group(2))
    return total


def chat_variants(values: list[str] | None) -> dict[str, str]:
    """`NAME=PATH` options (the path of a build's `chat-service` script), the workspace's build
    when none is given."""
    return dict(v.split("=", 1) for v in (values or [f"current={BIN / 'chat-service'}"]))


def comparison_options(description: str | None) -> argparse.ArgumentParser:
    """The options of a benchmark that compares chat service builds under wrk, beside the
    floor: `--variant NAME=PATH` (repeated), `--seconds`, `--rounds`, `--connections`,
    `--warmup` and `--no-floor`. The benchmark adds its own."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variant", action="append", help="NAME=path/to/chat-service")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument(
        "--warmup",
        type=int,
        default=20,
        help="seconds of unmeasured load through each build before the rounds (default 20)",
    )
    parser.add_argument(
        "--no-floor", action="store_true", help="leave out the floor (bench/floor/) this time"
    )
    return parser


def builds_and_floor(args: argparse.Namespace, floor: Path) -> dict[str, str]:
    """The builds `--variant` names (`chat_variants`), then the floor, `floor`'s script,
    unless `--no-floor`: name -> the script that serves it."""
    variants = chat_variants(args.variant)
    if not args.no_floor:
        variants["floor"] = str(floor)
    return variants


def rotated(items: Sequence[T], number: int) -> list[T]:
    """`items` in the order of round `number`: each round starts one further along, so no
    build always runs first, right after the warm-up, while Cassandra still compiles its hot
    paths (up to 0.4 ms of its CPU a send in the first minutes after a start)."""
    start = number % len(items)
    return [*items[start:], *items[:start]]


@contextmanager
def auth_and_chats(
    env: dict[str, str], variants: dict[str, str]
) -> Iterator[tuple[str, dict[str, tuple[str, subprocess.Popen[bytes]]]]]:
    """An auth service and one chat service per build, on the scratch environment `env`;
    yields the auth URL and, per build, its chat URL and process."""
    with ExitStack() as services:
        auth_url, _ = services.enter_context(serving(BIN / "auth-service", env, "/auth/api"))
        env["CHAT_AUTH_SERVICE_URL"] = auth_url
        chats = {
            name: services.enter_context(serving(Path(path).resolve(), env, "/chat/api"))
            for name, path in variants.items()
        }
        yield auth_url, chats


def stack_pid(name: str) -> int | None:
    """The pid of a component of the running local stack, None when it is not running."""
    from devstack import processes
    from devstack.settings import StackSettings

    return processes.running_pid(StackSettings().state_dir / name / f"{name}.pid")


def write_result(name: str, result: dict[str, Any]) -> None:
    """Writes `result`, stamped with the time, to bench/results/NAME.json."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    result = {"benchmark": name, **result, "at": datetime.now(UTC).isoformat()}
    path.write_text(json.dumps(result, indent=2, default=str))
    print(f"wrote {path}")


async def make_pairs(auth_url: str, chat_url: str, senders: int) -> list[dict[str, Any]]:
    """`senders` users, paired into chats; one record per user: id, password, Authorization
    header, chat id and the other member."""
    async with (
        httpx.AsyncClient(base_url=auth_url, timeout=60) as auth,
        httpx.AsyncClient(base_url=chat_url, timeout=60) as chat,
    ):

        async def user() -> dict[str, Any]:
            name, password = f"bench_{secrets.token_hex(5)}", secrets.token_urlsafe(12)
            signed_up = await auth.post(
                "/auth/api/v1/users/", json={"username": name, "password": password}
            )
            login = await auth.post(
                "/auth/api/v1/login/", data={"username": name, "password": password}
            )
            return {
                "id": str(signed_up.json()["id"]),
                "username": name,
                "password": password,
                "headers": {"Authorization": f"Bearer {login.json()['access_token']}"},
            }

        users = [await user() for _ in range(senders + senders % 2)]
        result = []
        for a, b in zip(users[::2], users[1::2], strict=True):
            created = await chat.post(
                "/chat/api/v1/chat/", json={"users_id": [a["id"], b["id"]]}, headers=a["headers"]
            )
            chat_id = created.json()["chat_id"]
            result += [
                {**a, "chat_id": chat_id, "to": b["id"]},
                {**b, "chat_id": chat_id, "to": a["id"]},
            ]
    return result[:senders]
