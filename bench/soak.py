"""Soak: sends at a steady rate through the whole pipeline for minutes, watching memory, errors
and how far the consumer falls behind.

The harness starts an auth service, a chat service, the aggregator and the consumer on scratch
topics and a scratch keyspace (as `send_wrk.py` does). wrk then sends `--rate` messages a
second (default 80, about half of what this machine sustains) from `--users` senders to their
chat partners, every request with a unique `client_message_id`. wrk has no rate option: its
Lua script paces each thread with `delay()` against a monotonic clock, so the rate holds as
long as enough connections are free; if the service slows down the rate drops instead of
bursting to catch up, and the interval's request count shows it.

The load runs as one wrk run per `--interval` (default 10 s), so every interval has its own
request, error and latency figures. At each interval's end the benchmark samples:

- resident memory (RSS, whole process tree, from /proc) of the chat service, the aggregator
  and the consumer, and for information of Kafka, Cassandra, Redis and the Firestore emulator
  of the running stack;
- lag: sends the chat service accepted (its 201 count) minus messages the consumer has
  written to Firestore. The aggregator holds a burst open for up to 5 s by design, so a
  healthy lag is a few seconds' worth of sends, not zero.

Verdicts: a process's memory has plateaued when it grew by less than 5 % of its final RSS
over the last half of the run (medians of three samples at the midpoint and at the end). The
pipeline keeps up when the mean lag of the second half, in seconds of sends (lag divided by the
interval's rate), is at most 1.5 times that of the first half plus one second, and everything
drains within two minutes of the load ending. Errors (non-2xx answers and socket errors) stay
below 0.1 % of the requests in each half. The run is steady when all three hold.

    uv run python bench/soak.py [--minutes 10] [--rate 80] [--interval 10]

Needs the running stack (`make up`) and `wrk`. Prints a table and writes bench/results/soak.json
and bench/results/soak.png (memory and lag over time).
"""

import argparse
import asyncio
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import (
    RESULTS,
    auth_and_chats,
    chat_variants,
    make_pairs,
    metric,
    metric_sum,
    pipeline,
    scratch_environment,
    stack_pid,
    write_result,
)
from load_generator import require_wrk, usage, wrk, wrk_threads
from send_wrk import lua_script
from soak_report import plot, summarise

from devstack.settings import StackSettings

# Pacing for send_wrk's script: each thread claims the next slot of its own schedule, one every
# `1000 / per-thread rate` ms, and waits for it. A thread that fell behind starts again from
# now rather than sending a catch-up burst.
_PACING_LUA = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
int clock_gettime(int clock, soak_timespec *now);
]]
local clock_now = ffi.new("soak_timespec")

local function now_ms()
  ffi.C.clock_gettime(1, clock_now)  -- CLOCK_MONOTONIC
  return tonumber(clock_now.tv_sec) * 1000 + tonumber(clock_now.tv_nsec) / 1e6
end

local send_init = init
function init(args)
  send_init(args)
  gap_ms = 1000 / tonumber(args[2])
  next_at = now_ms()
end

function delay()
  local now = now_ms()
  if next_at < now then next_at = now end
  local wait = next_at - now
  next_at = next_at + gap_ms
  return math.floor(wait)
end
"""

_SEND = "/chat/api/v1/messaging/"
_SEND_ROUTE = "/v1/messaging/"  # the route as the chat service's metrics label it
_INFRA = ("kafka", "cassandra", "redis", "firestore")
_DRAIN_LIMIT = 120.0


@dataclass
class Probe:
    """Reads the figures sampled at the end of each interval."""

    pids: dict[str, int | None]
    chat_metrics: str
    consumer_metrics: str
    started: float = 0.0
    """When the load started (monotonic seconds)."""

    def sample(self) -> dict[str, Any]:
        accepted, written = self.accepted(), self.written()
        return {
            "seconds": round(time.monotonic() - self.started, 1),
            "processes": usage(self.pids),
            "accepted": accepted,
            "written": written,
            "lag": accepted - written,
        }

    def accepted(self) -> int:
        count = "chat_http_request_duration_seconds_count"
        return int(
            metric_sum(self.chat_metrics, count, method="POST", route=_SEND_ROUTE, status="201")
        )

    def written(self) -> float:
        return metric(self.consumer_metrics, "consumer_messages_written_total")

    def drain(self) -> dict[str, Any]:
        """Waits until the consumer has written every accepted send."""
        started = time.monotonic()
        while time.monotonic() - started < _DRAIN_LIMIT:
            behind = self.accepted() - self.written()
            if behind <= 0:
                return {"drained": True, "seconds": round(time.monotonic() - started, 1)}
            time.sleep(0.2)
        return {"drained": False, "seconds": _DRAIN_LIMIT, "behind": behind}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=80, help="sends per second")
    parser.add_argument("--interval", type=int, default=10, help="seconds between samples")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--users", type=int, default=400)
    args = parser.parse_args()
    require_wrk()
    config = {
        "minutes": args.minutes,
        "rate": args.rate,
        "interval": args.interval,
        "connections": args.connections,
        "users": args.users,
    }
    samples, intervals, drained = run(args)
    summary = summarise(config, samples, intervals, drained)
    write_result("soak", {**config, "summary": summary, "samples": samples, "intervals": intervals})
    plot(samples, config, RESULTS / "soak.png")


def run(
    args: argparse.Namespace,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    infra = {name: stack_pid(name) for name in _INFRA}
    with (
        scratch_environment(StackSettings().endpoints) as env,
        auth_and_chats(env, chat_variants(None)) as (auth_url, chats),
        pipeline(env) as stages,
    ):
        chat_url, chat = next(iter(chats.values()))
        pairs = asyncio.run(make_pairs(auth_url, chat_url, args.users))
        probe = Probe(
            pids={
                "chat": chat.pid,
                "aggregator": stages["aggregator"][1].pid,
                "consumer": stages["consumer"][1].pid,
                **infra,
            },
            chat_metrics=f"{chat_url}/chat/api/metrics",
            consumer_metrics=stages["consumer"][0],
        )
        with tempfile.TemporaryDirectory() as folder:
            script = Path(folder) / "soak.lua"
            script.write_text(lua_script(pairs) + _PACING_LUA)
            samples, intervals = _load(f"{chat_url}{_SEND}", script, probe, args)
        return samples, intervals, probe.drain()


def _load(
    url: str, script: Path, probe: Probe, args: argparse.Namespace
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One wrk run per interval; each interval's sample is read while the next one runs, so
    the load pauses only for wrk's restart."""
    count = max(1, round(args.minutes * 60 / args.interval))
    rate = str(args.rate / wrk_threads(args.connections))  # per wrk thread
    run = uuid.uuid4().hex[:8]
    probe.started = time.monotonic()
    samples, intervals = [probe.sample()], []
    with ThreadPoolExecutor(max_workers=1) as sampler:
        pending = None
        for number in range(count):
            result = wrk(url, args.interval, args.connections, script, (f"{run}-{number}", rate))
            if pending is not None:
                samples.append(pending.result())
            pending = sampler.submit(probe.sample)
            intervals.append(result)
            _report(number + 1, count, result)
        assert pending is not None
        samples.append(pending.result())
    return samples, intervals


def _report(number: int, count: int, interval: dict[str, Any]) -> None:
    bad = interval["unexpected_status"] + interval["socket_errors"]
    print(
        f"interval {number}/{count}: {interval['per_second']:.1f} sends/s,"
        f" p99 {interval['p99_ms']:.0f} ms, {bad} errors",
        flush=True,
    )


if __name__ == "__main__":
    main()
