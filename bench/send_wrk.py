"""Send throughput of the whole pipeline under wrk: chat service, Cassandra, Kafka, the
aggregator and the consumer all on this machine, A/B between chat service builds.

Each build (`--variant NAME=PATH`, the path of its `chat-service` script; the workspace's by
default) serves on a port of its own. Every service runs on one scratch keyspace and set of
topics: the aggregator and the consumer read what the chat services publish and write the
bursts to the Firestore emulator, so a send's downstream cost is part of its bill. Every
request is a new message from one of `--users` senders to its chat partner, with a unique
`client_message_id` (run tag, wrk thread and request counter: no request is an idempotent
replay).

Before the rounds each build gets `--warmup` seconds of unmeasured sends (20 by default):
a Cassandra started minutes ago still compiles its hot paths, which cost 0.70 ms of its CPU a
send in the first round after a start against 0.27 once warm, so without it the first rounds
measure the compiler. After each round the benchmark waits until the consumer has written
every accepted message (`drain s`: how far the pipeline fell behind) before it reads the CPU
counters, so each process's CPU milliseconds per send include the work a send causes
downstream. The same run measures wrk on GET health (the ceiling of the load generator and
the HTTP layer) and sends over one connection (the cost of a lone request), and the same load
against the floor (`bench/floor/floor_service.py`: the smallest honest implementation of the
send's promise on the same stack; its docstring says what it keeps and what it leaves out),
so the table shows the distance to what this stack can do, not only to the previous build
(`--no-floor` skips it).

    uv run python bench/send_wrk.py --variant before=../old/.venv/bin/chat-service \\
        --variant after=.venv/bin/chat-service [--users 400] [--partitions 6]

`--users` and `--partitions` (of each scratch topic) are its own; `--help` lists the rest,
which every comparison of builds shares (bench/README.md). Writes bench/results/send_wrk.json
beside the table it prints, from the running stack (`make up`) and `wrk`.
"""

import argparse
import asyncio
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import harness
from load_generator import RESULT_LUA, measured, median_of, print_table, require_wrk, wrk

from devstack.settings import StackSettings

FLOOR = Path(__file__).parent / "floor" / "floor_service.py"
"""The smallest honest implementation of the same promise, served beside every build."""

_SEND_LUA = """
local senders = {%(senders)s}
threads = {}
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
"""

_INFRA = ("cassandra", "kafka", "redis", "firestore")
_DRAIN_LIMIT = 120.0


def lua_script(pairs: list[dict[str, Any]]) -> str:
    senders = ", ".join(
        f'{{"{p["chat_id"]}", "{p["to"]}", "{p["headers"]["Authorization"]}"}}' for p in pairs
    )
    return (_SEND_LUA % {"senders": senders}) + RESULT_LUA


class Drain:
    """Waits until the consumer has written every message accepted so far."""

    def __init__(self, consumer_metrics: str) -> None:
        self._metrics = consumer_metrics
        self.accepted = 0

    def __call__(self, result: dict[str, Any]) -> dict[str, Any]:
        """Adds the run's accepted sends, then waits for the consumer to write them all."""
        self.accepted += result["requests"] - result["unexpected_status"]
        started = time.monotonic()
        while time.monotonic() - started < _DRAIN_LIMIT:
            written = harness.metric(self._metrics, "consumer_messages_written_total")
            if written >= self.accepted:
                return {"drained": True, "seconds": round(time.monotonic() - started, 1)}
            time.sleep(0.2)
        return {"drained": False, "seconds": _DRAIN_LIMIT, "behind": self.accepted - written}


def main() -> None:
    parser = harness.comparison_options(__doc__)
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument(
        "--partitions", type=int, default=harness.PARTITIONS, help="of each scratch topic"
    )
    args = parser.parse_args()
    require_wrk()
    variants = harness.builds_and_floor(args, FLOOR)
    summary, firestore = run_all(variants, {name: harness.stack_pid(name) for name in _INFRA}, args)
    print_table(summary, baseline=f"send x{args.connections}, {next(iter(variants))}")
    print(
        "Firestore, every build and round together: {documents:.0f} documents for {messages:.0f}"
        " messages ({messages_per_document:.2f} a document); {writes_per_message:.3f} writes and"
        " {reads_per_message:.3f} reads a message".format(**firestore)
    )
    harness.write_result(
        "send_wrk",
        {
            "connections": args.connections,
            "users": args.users,
            "partitions": args.partitions,
            "seconds": args.seconds,
            "rounds": args.rounds,
            "variants": variants,
            "summary": summary,
            "firestore": firestore,
        },
    )


def run_all(
    variants: dict[str, str], infra: dict[str, int | None], args: argparse.Namespace
) -> tuple[dict[str, dict[str, Any]], dict[str, float]]:
    """The table's rows, and what the consumer wrote to Firestore for all of them."""
    with (
        harness.scratch_environment(StackSettings().endpoints, args.partitions) as env,
        harness.auth_and_chats(env, variants) as (auth_url, chats),
        harness.pipeline(env) as stages,
    ):
        first_url = next(iter(chats.values()))[0]
        pairs = asyncio.run(harness.make_pairs(auth_url, first_url, args.users))
        pids = {
            **infra,
            "aggregator": stages["aggregator"][1].pid,
            "consumer": stages["consumer"][1].pid,
        }
        with tempfile.TemporaryDirectory() as folder:
            script = Path(folder) / "send.lua"
            script.write_text(lua_script(pairs))
            summary = _rounds(chats, pids, script, Drain(stages["consumer"][0]), args)
        return summary, _firestore_bill(stages["consumer"][0])


def _firestore_bill(consumer_metrics: str) -> dict[str, float]:
    """Documents, messages, and billed writes and reads per message, since the consumer
    started (warm-up included): one document per burst is the aggregation's whole point."""
    messages = harness.metric(consumer_metrics, "consumer_messages_written_total")
    documents = harness.metric(consumer_metrics, "consumer_documents_written_total")
    writes = harness.metric_sum(consumer_metrics, "consumer_firestore_writes_total")
    reads = harness.metric_sum(consumer_metrics, "consumer_firestore_reads_total")
    return {
        "messages": messages,
        "documents": documents,
        "messages_per_document": messages / documents if documents else 0.0,
        "writes_per_message": writes / messages if messages else 0.0,
        "reads_per_message": reads / messages if messages else 0.0,
    }


def _rounds(
    chats: dict[str, tuple[str, Any]],
    downstream: dict[str, int | None],
    script: Path,
    drain: Drain,
    args: argparse.Namespace,
) -> dict[str, dict[str, Any]]:
    send = "/chat/api/v1/messaging/"
    # Warm-up (the module's docstring says why): each build's prepared paths, producer and
    # caches, and the JVMs' compilers.
    for name, (url, _) in chats.items():
        drain(wrk(f"{url}{send}", args.warmup, args.connections, script, (f"warm-{name}",)))
    results: dict[str, list[dict[str, Any]]] = {}
    for number in range(args.rounds):
        for name, (url, process) in harness.rotated(list(chats.items()), number):
            pids = {"chat": process.pid, **downstream}
            for connections in (args.connections, 1):
                tag = (f"r{number}-{name}-{connections}",)
                run = partial(wrk, f"{url}{send}", args.seconds, connections, script, tag)
                results.setdefault(f"send x{connections}, {name}", []).append(
                    measured(pids, run, settle=drain)
                )
        url, process = next(iter(chats.values()))
        results.setdefault(f"GET health x{args.connections}", []).append(
            measured(
                {"chat": process.pid},
                partial(wrk, f"{url}/chat/api/health/", args.seconds, args.connections),
            )
        )
    return {name: median_of(rounds) for name, rounds in results.items()}


if __name__ == "__main__":
    main()
