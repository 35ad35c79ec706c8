"""Send throughput and latency of the chat service at 50 concurrent senders, against the real
stack (Cassandra, Kafka, and a real auth service for users and tokens).

By default it starts its own auth service (on a scratch Postgres database) and its own chat
service (scratch keyspace and topic, rate limits raised so the limiter does not cap the run)
on spare ports, and removes them afterwards. Baselines measured in the same run: GET health
at the same concurrency (the HTTP floor), and a single sender (no contention).

    uv run python bench/chat_send.py [--senders 50] [--messages-per-sender 100]

Prints a table and writes bench/results/chat_send.json.
"""

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from harness import admin_sql, free_port, percentile, wait_healthy
from sqlalchemy.engine import make_url

from devstack.kafka_topics import create_topics, delete_topics
from devstack.settings import Endpoints, StackSettings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent


@contextmanager
def running(
    command: list[str], env: dict[str, str], health_url: str
) -> Iterator[subprocess.Popen[bytes]]:
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
def scratch_environment(stack: Endpoints) -> Iterator[dict[str, str]]:
    """Environment for an auth and a chat service on a scratch Postgres database, Cassandra
    keyspace and Kafka topic (migrated and created here, removed afterwards), with the send
    limits raised so the limiter does not cap a run."""
    tag = uuid.uuid4().hex[:8]
    database, keyspace, topic = f"bench_auth_{tag}", f"bench_send_{tag}", f"bench_messages_{tag}"
    env = {
        **os.environ,
        **stack.as_environment(),
        "APP_ENV": "test",
        "JWT_SECRET": secrets.token_urlsafe(48),
        "DATABASE_URL": make_url(stack.database_url)
        .set(database=database)
        .render_as_string(hide_password=False),
        "AUTH_SIGNUPS_PER_ADDRESS": "100000",
        "AUTH_LOG_LEVEL": "WARNING",
        "CHAT_KEYSPACE": keyspace,
        "CHAT_MESSAGES_TOPIC": topic,
        "CHAT_SEND_RATE_PER_SECOND": "1000000",
        "CHAT_SEND_BURST": "1000000",
        "CHAT_REPEAT_BODY_LIMIT": "1000000",
        "CHAT_LOG_LEVEL": "WARNING",
    }
    admin_sql(stack, f'CREATE DATABASE "{database}"')
    asyncio.run(create_topics(stack.kafka_bootstrap_servers, [topic], 6))
    try:
        subprocess.run([BIN / "auth-service", "migrate"], env=env, cwd=ROOT, check=True)
        subprocess.run([BIN / "chat-service", "migrate"], env=env, cwd=ROOT, check=True)
        yield env
    finally:
        asyncio.run(delete_topics(stack.kafka_bootstrap_servers, [topic]))
        admin_sql(stack, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        drop_keyspace(stack, keyspace)


@contextmanager
def serving(
    script: Path, env: dict[str, str], prefix: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`script serve` on a spare port until the block ends; yields its base URL and process."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(script), "serve", "--port", str(port)]
    with running(command, env, f"{url}{prefix}/health/") as process:
        yield url, process


@contextmanager
def own_stack(stack: Endpoints) -> Iterator[tuple[str, str, int]]:
    """A scratch auth service and chat service; yields their base URLs and the chat pid."""
    with (
        scratch_environment(stack) as env,
        serving(BIN / "auth-service", env, "/auth/api") as (auth_url, _),
    ):
        env["CHAT_AUTH_SERVICE_URL"] = auth_url
        with serving(BIN / "chat-service", env, "/chat/api") as (chat_url, server):
            yield auth_url, chat_url, server.pid


def drop_keyspace(stack: Endpoints, keyspace: str) -> None:
    from cassandra.cluster import Cluster

    hosts, port = stack.cassandra_contact
    cluster = Cluster(hosts, port=port)
    try:
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
    finally:
        cluster.shutdown()


async def make_pairs(auth_url: str, chat: httpx.AsyncClient, senders: int) -> list[dict[str, Any]]:
    """`senders` users, paired into chats; one sender record per user."""
    async with httpx.AsyncClient(base_url=auth_url, timeout=60) as auth:

        async def user() -> dict[str, str]:
            name, password = f"bench_{secrets.token_hex(5)}", secrets.token_urlsafe(12)
            created = (
                await auth.post(
                    "/auth/api/v1/users/", json={"username": name, "password": password}
                )
            ).json()
            login = (
                await auth.post(
                    "/auth/api/v1/login/", data={"username": name, "password": password}
                )
            ).json()
            return {
                "id": str(created["id"]),
                "headers": {"Authorization": f"Bearer {login['access_token']}"},
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


async def closed_loop(
    workers: int,
    per_worker: int,
    request: Callable[[int, int], Awaitable[httpx.Response]],
    expect: int,
) -> dict[str, Any]:
    """`workers` loops, each issuing `per_worker` requests back to back; latency per request."""
    latencies: list[float] = []
    failures: dict[str, int] = {}

    async def worker(w: int) -> None:
        for i in range(per_worker):
            started = time.perf_counter()
            try:
                status = (await request(w, i)).status_code
            except httpx.HTTPError as error:
                status = type(error).__name__  # type: ignore[assignment]
            latencies.append((time.perf_counter() - started) * 1000)
            if status != expect:
                failures[str(status)] = failures.get(str(status), 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(workers)))
    elapsed = time.perf_counter() - started
    return {
        "workers": workers,
        "requests": len(latencies),
        "failures": failures,
        "seconds": elapsed,
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies),
        "p99_ms": percentile(latencies, 99),
    }


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measured(pid: int | None, phase: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """Adds the chat service's own CPU time per request: the cost of the service itself,
    whatever else competes for the cores."""
    before = cpu_seconds(pid)
    result = await phase
    if pid is not None:
        result["service_cpu_ms_per_request"] = (
            (cpu_seconds(pid) - before) * 1000 / result["requests"]
        )
    return result


async def bench(
    auth_url: str, chat_url: str, senders: int, per_sender: int, pid: int | None = None
) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=senders + 10, max_keepalive_connections=senders + 10)

    def client() -> httpx.AsyncClient:
        # A fresh connection pool per phase: connections left idle between phases would race
        # the server's keep-alive timeout and fail with a read error that is not the service's.
        return httpx.AsyncClient(base_url=chat_url, timeout=60, limits=limits)

    async with client() as setup:
        pairs = await make_pairs(auth_url, setup, senders)

    def send_with(chat: httpx.AsyncClient) -> Callable[[int, int], Awaitable[httpx.Response]]:
        async def send(w: int, i: int) -> httpx.Response:
            sender = pairs[w]
            body = {
                "chat_id": sender["chat_id"],
                "to_user": sender["to"],
                "body": f"bench message {i} from {w}",
                "client_message_id": uuid.uuid4().hex,
            }
            return await chat.post("/chat/api/v1/messaging/", json=body, headers=sender["headers"])

        return send

    async def health_phase() -> dict[str, Any]:
        async with client() as chat:

            async def health(_: int, __: int) -> httpx.Response:
                return await chat.get("/chat/api/health/")

            return await closed_loop(senders, per_sender, health, 200)

    async def send_phase(workers: int, per_worker: int) -> dict[str, Any]:
        async with client() as chat:
            return await closed_loop(workers, per_worker, send_with(chat), 201)

    await send_phase(senders, 5)  # warm-up: prepared paths, producer, caches
    return {
        "health, concurrent (HTTP floor)": await measured(pid, health_phase()),
        "send, 1 sender (baseline)": await measured(pid, send_phase(1, max(per_sender * 2, 100))),
        f"send, {senders} senders": await measured(pid, send_phase(senders, per_sender)),
    }


def print_table(phases: dict[str, Any]) -> None:
    base = phases["send, 1 sender (baseline)"]
    print(
        f"{'phase':<34} {'reqs':>6} {'fail':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'req/s vs 1':>10} {'p99 vs 1':>9} {'svc cpu ms/req':>14}"
    )
    for name, p in phases.items():
        failed = sum(p["failures"].values())
        print(
            f"{name:<34} {p['requests']:>6} {failed:>5} {p['per_second']:>8.0f} "
            f"{p['p50_ms']:>8.1f} {p['p99_ms']:>8.1f} "
            f"{p['per_second'] / base['per_second']:>9.1f}x {p['p99_ms'] / base['p99_ms']:>8.1f}x "
            f"{p.get('service_cpu_ms_per_request', float('nan')):>14.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--messages-per-sender", type=int, default=100)
    parser.add_argument("--chat-url", help="an already running chat service (limits raised!)")
    parser.add_argument("--auth-url", help="its auth service (needed with --chat-url)")
    args = parser.parse_args()
    if args.chat_url:
        phases = asyncio.run(
            bench(args.auth_url, args.chat_url, args.senders, args.messages_per_sender)
        )
    else:
        with own_stack(StackSettings().endpoints) as (auth_url, chat_url, pid):
            phases = asyncio.run(
                bench(auth_url, chat_url, args.senders, args.messages_per_sender, pid)
            )
    print_table(phases)
    result = {
        "benchmark": "chat_send",
        "senders": args.senders,
        "messages_per_sender": args.messages_per_sender,
        "client_message_id": True,
        "phases": phases,
        "at": datetime.now(UTC).isoformat(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "chat_send.json").write_text(json.dumps(result, indent=2))
    print(f"wrote {RESULTS / 'chat_send.json'}")


if __name__ == "__main__":
    main()
