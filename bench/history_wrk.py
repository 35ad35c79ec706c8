"""History pages over HTTP under wrk: the newest page of a chat and a page 100,000 messages
deep, served by the chat service from the running stack's Cassandra.

The chat is a real one (two users signed up on a scratch auth service, the chat created
through the chat service's API); its history, `--depth` + 30 messages one every ~10 minutes
over the past years, is written straight into the scratch keyspace through the chat service's
repository (`fill_history` of history_depth.py), which takes far less time than sending it.
Every request is GET /chat/api/v1/chat/{chat_id}/messages/?quantity=30, alternately with
each member's token: at depth 0 without a cursor (the newest page), at depth N with the
`time` of the N-th newest message as the cursor (the page of the 30 messages after the N
newest). Before timing, both pages are read once and compared with what was written.

Builds of the chat service can be compared in one run (`--variant NAME=PATH`, the path of
a build's `chat-service` script; the workspace's by default): each serves on a port of its
own over the same chat, and each round measures both depths on every build in turn, then wrk
on GET health (the ceiling of the load generator and the HTTP layer). Beside the builds, the
floor serves the same pages (`bench/floor/floor_service.py`: the smallest honest
implementation of a history page on the same stack; its docstring says what it keeps and what
it leaves out; its pages are checked to equal the first build's, byte for byte), so the
table shows the distance to what this stack can do at both depths (`--no-floor` skips it).
Per page, the CPU milliseconds of the chat service (or the floor), Cassandra and wrk are read.
Figures are medians of the rounds.

    uv run python bench/history_wrk.py --variant before=../old/.venv/bin/chat-service \\
        --variant after=.venv/bin/chat-service [--depth 100000]

`--depth` is its own; the other options are those of every comparison of builds
(`harness.comparison_options`; bench/README.md says how to read the table). Needs the running
stack (`make up`) and `wrk`; prints a table and writes bench/results/history_wrk.json.
"""

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import harness
import httpx
from history_depth import fill_history
from load_generator import (
    RESULT_LUA,
    cpu_seconds,
    measured,
    median_of,
    print_table,
    require_wrk,
    wrk,
)

from chat_events import ChatMessage
from chat_service.chats.schemas import Chat
from chat_service.database import connect
from chat_service.messages.repository import MessageRepository
from chat_service.settings import ChatSettings
from devstack.settings import StackSettings

PAGE = 30
FLOOR = Path(__file__).parent / "floor" / "floor_service.py"
"""The smallest honest implementation of a history page, served beside every build."""

_HISTORY_LUA = """
local tokens = {%(tokens)s}
threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  n, bad = 0, 0
end

function request()
  n = n + 1
  return wrk.format("GET", nil, {["Authorization"] = tokens[(n %% #tokens) + 1]})
end

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
"""


def lua_script(pairs: list[dict[str, Any]]) -> str:
    """The page request (path and query come from wrk's URL), with the members' tokens."""
    tokens = ", ".join(f'"{p["headers"]["Authorization"]}"' for p in pairs)
    return (_HISTORY_LUA % {"tokens": tokens}) + RESULT_LUA


def main() -> None:
    parser = harness.comparison_options(__doc__)
    parser.add_argument("--depth", type=int, default=100_000, help="messages above the deep page")
    args = parser.parse_args()
    if args.depth < 1:
        parser.error("--depth must be at least 1 (depth 0 is always measured)")
    require_wrk()
    variants = harness.builds_and_floor(args, FLOOR)
    summary, setup = run_all(harness.stack_pid("cassandra"), variants, args)
    print_table(summary, baseline=f"depth 0 x{args.connections}, {next(iter(variants))}")
    if not args.no_floor:
        print_floor_distance(summary, [n for n in variants if n != "floor"], args)
    harness.write_result(
        "history_wrk",
        {
            "connections": args.connections,
            "page_size": PAGE,
            "depth": args.depth,
            "variants": variants,
            "messages": args.depth + PAGE,
            **setup,
            "seconds": args.seconds,
            "rounds": args.rounds,
            "summary": summary,
        },
    )


def run_all(
    cassandra: int | None, variants: dict[str, str], args: argparse.Namespace
) -> tuple[dict[str, dict[str, Any]], dict[str, float]]:
    with (
        harness.scratch_environment(StackSettings().endpoints) as env,
        harness.auth_and_chats(env, variants) as (auth_url, chats),
    ):
        first_url = next(iter(chats.values()))[0]
        pairs = asyncio.run(harness.make_pairs(auth_url, first_url, 2))
        started = time.perf_counter()
        messages = asyncio.run(fill(env, pairs, args.depth + PAGE))
        setup = {"fill_seconds": round(time.perf_counter() - started, 1)}
        print(f"filled {len(messages)} messages in {setup['fill_seconds']} s")
        setup["settle_seconds"] = round(settle(cassandra), 1)
        print(f"Cassandra settled in {setup['settle_seconds']} s")
        path = f"/chat/api/v1/chat/{pairs[0]['chat_id']}/messages/?quantity={PAGE}"
        cursor = f"&time={messages[args.depth - 1].time}"
        targets = []
        first_answers: dict[int, str] = {}
        for name, (url, process) in chats.items():
            for depth, page in ((0, f"{url}{path}"), (args.depth, f"{url}{path}{cursor}")):
                answer = check_page(page, pairs[1]["headers"], messages[depth : depth + PAGE])
                # Every build, and the floor, answers the same bytes as the first build.
                assert first_answers.setdefault(depth, answer) == answer, f"{name} differs"
                label = f"depth {depth} x{args.connections}, {name}"
                targets.append((label, page, {"chat": process.pid, "cassandra": cassandra}))
        with tempfile.TemporaryDirectory() as folder:
            script = Path(folder) / "history.lua"
            script.write_text(lua_script(pairs))
            url, process = next(iter(chats.values()))
            health = (f"{url}/chat/api/health/", process.pid)
            return _rounds(targets, health, script, args), setup


async def fill(env: dict[str, str], pairs: list[dict[str, Any]], count: int) -> list[ChatMessage]:
    """`count` messages of the pair's chat in the scratch keyspace, newest first."""
    chat_settings = ChatSettings(
        keyspace=env["CHAT_KEYSPACE"], cassandra_hosts=env["CASSANDRA_HOSTS"]
    )
    chat = Chat(
        chat_id=uuid.UUID(pairs[0]["chat_id"]),
        users_id=[p["id"] for p in pairs],
        users_name=[p["username"] for p in pairs],
        created_at=datetime.now(UTC),
    )
    session = await connect(chat_settings)
    try:
        repo = MessageRepository(session)
        await repo.prepare(chat_settings)
        return await fill_history(chat_settings, repo, chat, count)
    finally:
        await session.close()


def settle(pid: int | None, limit: float = 60.0) -> float:
    """Waits (at most `limit` s) until `pid` uses under a fifth of a core: Cassandra flushes
    and compacts what the fill wrote, work that would otherwise be billed to the first pages.
    Returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = cpu_seconds(pid)
        time.sleep(2)
        if cpu_seconds(pid) - before < 0.4:
            break
    return time.monotonic() - started


def check_page(url: str, headers: dict[str, str], expected: list[ChatMessage]) -> str:
    """The page at `url` holds exactly `expected`, in order (newest first); returns the
    answer's text, which another build (or the floor) must match byte for byte."""
    answer = httpx.get(url, headers=headers, timeout=30)
    answer.raise_for_status()
    got = [item["message_id"] for item in answer.json()]
    assert got == [str(m.message_id) for m in expected], f"wrong page at {url}"
    return answer.text


def print_floor_distance(
    summary: dict[str, dict[str, Any]], builds: list[str], args: argparse.Namespace
) -> None:
    """Each build against the floor at each depth: how many times the floor's pages per
    second it serves, and how many times the floor's p99 and CPU per page it costs."""
    print("distance to the floor (build / floor):")
    for depth in (0, args.depth):
        floor = summary[f"depth {depth} x{args.connections}, floor"]
        for name in builds:
            row = summary[f"depth {depth} x{args.connections}, {name}"]
            cpu = _ratio(row["cpu_ms_per_request"], floor["cpu_ms_per_request"], "chat")
            print(
                f"  depth {depth:>7}, {name:<16} pages/s {_ratio(row, floor, 'per_second')}"
                f"  p99 ms {_ratio(row, floor, 'p99_ms')}  chat CPU ms/page {cpu}"
            )


def _ratio(row: dict[str, Any], floor: dict[str, Any], key: str) -> str:
    return f"{row[key]:8.2f} / {floor[key]:8.2f} = {row[key] / floor[key]:5.2f}x"


def _rounds(
    targets: list[tuple[str, str, dict[str, int | None]]],
    health: tuple[str, int],
    script: Path,
    args: argparse.Namespace,
) -> dict[str, dict[str, Any]]:
    for _, url, _ in targets:  # warm-up: prepared statements, caches, the JIT of Cassandra
        wrk(url, args.warmup, args.connections, script)
    results: dict[str, list[dict[str, Any]]] = {}
    health_url, health_pid = health
    for number in range(args.rounds):
        for label, url, pids in harness.rotated(targets, number):
            results.setdefault(label, []).append(
                measured(pids, partial(wrk, url, args.seconds, args.connections, script))
            )
        results.setdefault(f"GET health x{args.connections}", []).append(
            measured({"chat": health_pid}, partial(wrk, health_url, args.seconds, args.connections))
        )
    return {name: median_of(rounds) for name, rounds in results.items()}


if __name__ == "__main__":
    main()
