"""Sign-up and login latency of the auth service, one client, sequential requests.

By default it starts its own auth service (`auth-service migrate` + `auth-service serve`) on a
spare port against a scratch Postgres database on the stack's server, with the per-address
limits raised (200 sign-ups from one address would otherwise hit the 5-per-hour limit), and
removes both afterwards. With `--url` it targets a running service instead; that service must
allow the sign-ups and logins from this address.

Baseline measured in the same run: `GET /auth/api/health/` (the HTTP + framework floor), so the
ratios show what password hashing and the database add. Failed logins (wrong password, unknown
user) are measured too: they should cost the same, so timing does not reveal which names exist.

    uv run python bench/auth_latency.py [--requests 200] [--url http://127.0.0.1:8000]

Prints a table and writes bench/results/auth_latency.json.
"""

import argparse
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from harness import admin_sql, free_port, percentile, wait_healthy
from sqlalchemy.engine import make_url

from devstack.settings import StackSettings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
API = "/auth/api"
PASSWORD = "bench-password-123"  # noqa: S105 - throwaway users in a scratch database


@contextmanager
def own_auth_service() -> Iterator[str]:
    """A scratch database and an auth service on a spare port; both removed afterwards."""
    stack = StackSettings().endpoints
    database = f"bench_auth_{secrets.token_hex(4)}"
    admin_sql(stack, f'CREATE DATABASE "{database}"')
    database_url = make_url(stack.database_url).set(database=database)
    env = {
        **os.environ,
        **stack.as_environment(),
        "DATABASE_URL": database_url.render_as_string(hide_password=False),
        "APP_ENV": "test",
        "JWT_SECRET": secrets.token_urlsafe(48),
        "AUTH_SIGNUPS_PER_ADDRESS": "1000000",
        "AUTH_LOGIN_FAILURES_PER_ADDRESS": "1000000",
        "AUTH_LOG_LEVEL": "WARNING",
    }
    process: subprocess.Popen[bytes] | None = None
    try:
        cli = [sys.executable, "-m", "auth_service"]
        subprocess.run([*cli, "migrate"], env=env, check=True, timeout=120)
        port = free_port()
        process = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env)
        base_url = f"http://127.0.0.1:{port}"
        wait_healthy(f"{base_url}{API}/health/", process, within=60)
        yield base_url
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        admin_sql(stack, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def timed(call: Callable[[], httpx.Response], expected: int) -> float:
    started = time.perf_counter()
    response = call()
    elapsed = time.perf_counter() - started
    if response.status_code != expected:
        raise RuntimeError(f"expected {expected}, got {response.status_code}: {response.text}")
    return elapsed


def measure(base_url: str, requests: int) -> dict[str, list[float]]:
    run = secrets.token_hex(3)
    names = [f"bench_{run}_{index}" for index in range(requests)]
    with httpx.Client(base_url=base_url, timeout=60) as client:

        def health() -> httpx.Response:
            return client.get(f"{API}/health/")

        def sign_up(name: str) -> Callable[[], httpx.Response]:
            body = {"username": name, "password": PASSWORD}
            return lambda: client.post(f"{API}/v1/users/", json=body)

        def log_in(name: str, password: str = PASSWORD) -> Callable[[], httpx.Response]:
            form = {"username": name, "password": password}
            return lambda: client.post(f"{API}/v1/login/", data=form)

        for _ in range(10):  # warm up connection, pools and code paths
            timed(health, 200)
        return {
            "health (baseline)": [timed(health, 200) for _ in range(requests)],
            "sign-up": [timed(sign_up(name), 201) for name in names],
            "login": [timed(log_in(name), 200) for name in names],
            # One failure per user, so the per-username limit (10) is never reached.
            "login, wrong pw": [timed(log_in(name, "wrong-password"), 401) for name in names],
            "login, no user": [timed(log_in(f"{name}_x", PASSWORD), 401) for name in names],
        }


def summarise(samples: dict[str, list[float]]) -> list[dict[str, Any]]:
    baseline = statistics.median(samples["health (baseline)"])
    rows = []
    for operation, values in samples.items():
        p50 = statistics.median(values)
        rows.append(
            {
                "operation": operation,
                "requests": len(values),
                "p50_ms": round(p50 * 1000, 2),
                "p99_ms": round(percentile(values, 99) * 1000, 2),
                "mean_ms": round(statistics.fmean(values) * 1000, 2),
                "max_ms": round(max(values) * 1000, 2),
                "p50_vs_baseline": round(p50 / baseline, 1),
            }
        )
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'operation':<18} {'n':>5} {'p50 ms':>9} {'p99 ms':>9} {'mean ms':>9} {'x baseline':>11}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['operation']:<18} {row['requests']:>5} {row['p50_ms']:>9.2f} "
            f"{row['p99_ms']:>9.2f} {row['mean_ms']:>9.2f} {row['p50_vs_baseline']:>11.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--url", help="target a running auth service instead of starting one")
    args = parser.parse_args()

    if args.url:
        samples = measure(args.url.rstrip("/"), args.requests)
    else:
        with own_auth_service() as base_url:
            samples = measure(base_url, args.requests)
    rows = summarise(samples)
    print_table(rows)
    result = {
        "benchmark": "auth_latency",
        "at": datetime.now(UTC).isoformat(),
        "target": args.url or "own auth-service (scratch database)",
        "argon2": {
            "memory_cost_kib": os.environ.get("AUTH_ARGON2_MEMORY_COST_KIB", "19456 (default)"),
            "time_cost": os.environ.get("AUTH_ARGON2_TIME_COST", "2 (default)"),
            "parallelism": os.environ.get("AUTH_ARGON2_PARALLELISM", "1 (default)"),
        },
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "auth_latency.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
