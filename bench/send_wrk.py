"""Send throughput of chat service builds under wrk, a compiled load generator, against the
running stack's Cassandra and Kafka, A/B in interleaved rounds.

Each build (`--variant NAME=PATH`, the path of its `chat-service` script; the workspace's by
default) serves on a port of its own, against one scratch keyspace and topic migrated by the
workspace's build. Every request is a new message from one of `--users` senders, each with a
unique `client_message_id` (thread number and request counter, so no request is an idempotent
replay). The same run measures wrk against GET health, the ceiling of the load generator and
of the HTTP layer, and reads the CPU time of the chat service, Cassandra, Kafka and wrk itself
from the kernel before and after each round.

    uv run python bench/send_wrk.py [--variant before=../old/.venv/bin/chat-service] \\
        [--variant after=.venv/bin/chat-service] [--seconds 20] [--rounds 3]

Needs `wrk` (Debian's package). Prints a table and writes bench/results/send_wrk.json.
"""

import argparse
import asyncio
import json
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from chat_send import BIN, RESULTS, cpu_seconds, make_pairs, scratch_environment, serving

from devstack import processes
from devstack.settings import StackSettings

_LUA = """
local senders = {%(senders)s}
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

function init(args)
  run, n, bad = args[1], 0, 0
end

function request()
  n = n + 1
  local s = senders[((tid * 7919 + n) %% #senders) + 1]
  local body = '{"chat_id":"' .. s[1] .. '","to_user":"' .. s[2] .. '","body":"bench ' .. n ..
    '","client_message_id":"' .. run .. "-" .. tid .. "-" .. n .. '"}'
  return wrk.format("POST", "/chat/api/v1/messaging/",
    {["Content-Type"] = "application/json", ["Authorization"] = s[3]}, body)
end

function response(status, headers, body)
  if status ~= 201 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local not_201 = 0
  for _, thread in ipairs(threads) do not_201 = not_201 + thread:get("bad") end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "seconds": %%.3f, "p50_ms": %%.2f, "p99_ms": %%.2f, ' ..
    '"not_201": %%d, "socket_errors": %%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, not_201, e.connect + e.read + e.write + e.timeout))
end
"""


def lua_script(pairs: list[dict[str, Any]]) -> str:
    senders = ", ".join(
        f'{{"{p["chat_id"]}", "{p["to"]}", "{p["headers"]["Authorization"]}"}}' for p in pairs
    )
    return _LUA % {"senders": senders}


def wrk(url: str, seconds: int, connections: int, script: Path | None, tag: str) -> dict[str, Any]:
    """One wrk run; its figures plus the CPU time wrk itself used."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if script is not None:
        command += ["-s", str(script)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(
        [*command, url, "--", tag], capture_output=True, text=True, check=True
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if script is not None:
        result: dict[str, Any] = json.loads(output.split("RESULT ", 1)[1])
    else:
        result = _parse_plain(output)
    result["per_second"] = result["requests"] / result["seconds"]
    result["cpu_seconds"] = {"wrk": wrk_cpu}
    return result


def _parse_plain(output: str) -> dict[str, Any]:
    """wrk's own report (no script): requests, duration and latency percentiles."""
    done = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    assert done, output
    unit = {"s": 1.0, "ms": 0.001, "m": 60.0}[done.group(3)]

    def latency(label: str) -> float:
        found = re.search(rf"{label}%\s+([\d.]+)(\w+)", output)
        assert found, output
        return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]

    return {
        "requests": int(done.group(1)),
        "seconds": float(done.group(2)) * unit,
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "not_201": None,
    }


def measured_round(pids: dict[str, int | None], run: Any, *args: Any) -> dict[str, Any]:
    """Runs `run(*args)` and adds the CPU milliseconds per request of each process in `pids`."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    result: dict[str, Any] = run(*args)
    spent = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    spent |= result.pop("cpu_seconds")
    result["cpu_ms_per_request"] = {
        name: seconds * 1000 / max(result["requests"], 1) for name, seconds in spent.items()
    }
    return result


def median_of(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    names = rounds[0]["cpu_ms_per_request"]
    return {
        "per_second": statistics.median(r["per_second"] for r in rounds),
        "p50_ms": statistics.median(r["p50_ms"] for r in rounds),
        "p99_ms": statistics.median(r["p99_ms"] for r in rounds),
        "not_201": None if rounds[0]["not_201"] is None else sum(r["not_201"] for r in rounds),
        "cpu_ms_per_request": {
            n: statistics.median(r["cpu_ms_per_request"][n] for r in rounds) for n in names
        },
        "rounds": rounds,
    }


def print_table(summary: dict[str, dict[str, Any]], baseline: str) -> None:
    base = summary[baseline]
    processes_ = list(base["cpu_ms_per_request"])
    header = f"{'run':<22} {'req/s':>8} {'vs base':>10} {'p50 ms':>7} {'p99 ms':>7}"
    header += f" {'not 201':>7}  " + " ".join(f"{p + ' ms':>12}" for p in processes_)
    print(f"base: {baseline}; CPU columns: milliseconds per request, medians of the rounds")
    print(header)
    for name, row in summary.items():
        ratio = row["per_second"] / base["per_second"]
        cpu = " ".join(
            f"{row['cpu_ms_per_request'].get(p, float('nan')):>12.2f}" for p in processes_
        )
        not_201 = "-" if row["not_201"] is None else row["not_201"]
        print(
            f"{name:<22} {row['per_second']:>8.0f} {ratio:>9.2f}x {row['p50_ms']:>7.1f} "
            f"{row['p99_ms']:>7.1f} {not_201:>7}  {cpu}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variant", action="append", help="NAME=path/to/chat-service")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--users", type=int, default=400)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: install Debian's `wrk` package")
    variants = dict(v.split("=", 1) for v in (args.variant or [f"current={BIN / 'chat-service'}"]))
    settings = StackSettings()
    infra = {
        name: processes.running_pid(settings.state_dir / name / f"{name}.pid")
        for name in ("cassandra", "kafka")
    }
    summary = run_all(settings, variants, infra, args)
    print_table(summary, baseline=f"send, {next(iter(variants))}")
    RESULTS.mkdir(exist_ok=True)
    result = {
        "benchmark": "send_wrk",
        "connections": args.connections,
        "users": args.users,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "variants": variants,
        "summary": summary,
        "at": datetime.now(UTC).isoformat(),
    }
    (RESULTS / "send_wrk.json").write_text(json.dumps(result, indent=2, default=str))
    print(f"wrote {RESULTS / 'send_wrk.json'}")


def run_all(
    settings: StackSettings,
    variants: dict[str, str],
    infra: dict[str, int | None],
    args: argparse.Namespace,
) -> dict[str, dict[str, Any]]:
    with scratch_environment(settings.endpoints) as env, ExitStack() as servers:
        auth_url, _ = servers.enter_context(serving(BIN / "auth-service", env, "/auth/api"))
        env["CHAT_AUTH_SERVICE_URL"] = auth_url
        chats = {
            name: servers.enter_context(serving(Path(path).resolve(), env, "/chat/api"))
            for name, path in variants.items()
        }
        first_url = next(iter(chats.values()))[0]

        async def pairs() -> list[dict[str, Any]]:
            async with httpx.AsyncClient(base_url=first_url, timeout=60) as client:
                return await make_pairs(auth_url, client, args.users)

        with tempfile.TemporaryDirectory() as folder:
            script = Path(folder) / "send.lua"
            script.write_text(lua_script(asyncio.run(pairs())))
            return _rounds(chats, infra, script, args)


def _rounds(
    chats: dict[str, tuple[str, Any]],
    infra: dict[str, int | None],
    script: Path,
    args: argparse.Namespace,
) -> dict[str, dict[str, Any]]:
    send_url = "/chat/api/v1/messaging/"
    for name, (url, _) in chats.items():  # warm-up: prepared paths, producer, caches
        wrk(f"{url}{send_url}", 3, args.connections, script, f"warm-{name}")
    results: dict[str, list[dict[str, Any]]] = {}
    for round_number in range(args.rounds):
        for name, (url, process) in chats.items():
            pids = {"chat": process.pid, **infra}
            tag = f"r{round_number}-{name}"
            results.setdefault(f"send, {name}", []).append(
                measured_round(pids, wrk, f"{url}{send_url}", args.seconds, args.connections,
                               script, tag)
            )  # fmt: skip
        url, process = next(iter(chats.values()))
        results.setdefault("GET health (ceiling)", []).append(
            measured_round({"chat": process.pid, **infra}, wrk, f"{url}/chat/api/health/",
                           args.seconds, args.connections, None, "health")
        )  # fmt: skip
    return {name: median_of(rounds) for name, rounds in results.items()}


if __name__ == "__main__":
    main()
