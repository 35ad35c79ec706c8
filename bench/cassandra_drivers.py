"""Client CPU per statement of three Python Cassandra drivers on the chat service's hot path.

Why: about a third of the chat service's CPU goes to cassandra-driver's I/O (libev) thread, so
a driver that spends less client CPU per statement would buy capacity directly. Candidates:

- cassandra-driver (devstack's), called exactly as `chat_service.database.execute` did
  before decision 0005: `execute_async` + `add_callbacks` + `call_soon_threadsafe` into an
  asyncio future, libev reactor, protocol v5, dict rows, consistency ONE, serial consistency
  LOCAL_SERIAL;
- scylla-driver, the drop-in fork (same `cassandra` package), set up and called the same way;
- acsylla, asyncio-native bindings of the C++ driver. It cannot speak protocol v5 to
  Cassandra 5 (the C++ driver knows only a pre-release "beta" v5, which Cassandra refuses), so it
  runs on v4; hence `--all` also runs cassandra-driver on v4, to tell the driver from the
  protocol. Its rows come back with uuid and timeuuid columns as text, not `uuid.UUID`.

Workloads, on a scratch keyspace (created at the start, dropped at the end) with the service's
`messages` and `message_ids` tables, each at a fixed number of statements in flight from asyncio
tasks, measured after a warm-up:

- insert:  the prepared INSERT of a message;
- lwt:     the idempotency claim, INSERT ... IF NOT EXISTS (a Paxos round per statement);
- history: the newest 30 messages of one partition holding 1,000.

Per workload: statements per second, the client process's CPU milliseconds per statement
(getrusage user + system: the event loop, the driver's I/O threads and everything else in the
process) and Cassandra's (utime + stime of its process and children from /proc; Cassandra serves
other clients too, so its idle rate just before each workload is recorded beside it). Statement
parameters are built before the clock starts, so the client figure is the driver's and the
asyncio bridge's cost, not ours.

    uv run python bench/cassandra_drivers.py [--statements 20000] [--concurrency 50]
    uv run python bench/cassandra_drivers.py --driver cassandra-driver [--protocol 4]
    uv run --isolated --no-project --with acsylla==1.2.0 --with uvloop \\
        python bench/cassandra_drivers.py --driver acsylla

Needs the running stack's Cassandra (`make up`) on this machine, since Cassandra's CPU is read
from /proc through its pid file, and uv (on PATH, or `--uv`). The default, `--all`, runs each
driver in a process of its own, one after another: the workspace's cassandra-driver in this
environment, the others in throw-away environments (`uv run --isolated --no-project --with
...`, same interpreter and uvloop), nothing added to the workspace. It prints a table and writes
bench/results/cassandra_drivers.json; each driver's run writes
bench/results/cassandra_drivers-<driver>[-v<protocol>].json, one JSON line per workload, with
Cassandra's idle rate beside its figures.
"""

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from cassandra_clients import AcsyllaDriver, Driver, Params, PythonDriver, Row

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PID_FILE = ROOT / ".devstack" / "cassandra" / "cassandra.pid"
BASELINE = "cassandra-driver"
# What each driver is installed from; None: the workspace's own environment.
PACKAGES: dict[str, str | None] = {
    "cassandra-driver": None,
    "scylla-driver": "scylla-driver==3.29.12",
    "acsylla": "acsylla==1.2.0",
}
# acsylla's C++ driver speaks up to v4 with Cassandra 5.
PROTOCOL = {"cassandra-driver": 5, "scylla-driver": 5, "acsylla": 4}
# (driver, protocol) in the order `--all` runs them; the last one tells protocol from driver.
RUNS = [("cassandra-driver", 5), ("scylla-driver", 5), ("acsylla", 4), ("cassandra-driver", 4)]
WORKLOADS = ("insert", "lwt", "history")
HISTORY_ROWS, PAGE = 1_000, 30
CLOCK_TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
BODY = "Are we still on for Thursday? I can bring the slides and the numbers from last week."

SCHEMA = (
    "CREATE KEYSPACE {ks} WITH replication = "
    "{{'class': 'SimpleStrategy', 'replication_factor': 1}}",
    """CREATE TABLE {ks}.messages (
        chat_id uuid, bucket int, time timeuuid, message_id uuid, from_user text, to_user text,
        body text, client_message_id text,
        PRIMARY KEY ((chat_id, bucket), time)
    ) WITH CLUSTERING ORDER BY (time DESC)""",
    # Keyed as the service's migration keys it: one partition per idempotency key.
    """CREATE TABLE {ks}.message_ids (
        chat_id uuid, client_message_id text, time timeuuid, bucket int, published boolean,
        PRIMARY KEY ((chat_id, client_message_id))
    )""",
)
QUERIES = {
    "insert": "INSERT INTO {ks}.messages (bucket, chat_id, time, message_id, from_user, to_user, "
    "body, client_message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "lwt": "INSERT INTO {ks}.message_ids (chat_id, client_message_id, time, bucket, published) "
    "VALUES (?, ?, ?, ?, false) IF NOT EXISTS",
    "history": "SELECT chat_id, time, message_id, from_user, to_user, body, client_message_id "
    "FROM {ks}.messages WHERE chat_id = ? AND bucket = ? LIMIT ?",
}

T = TypeVar("T")


def client_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cassandra_cpu_ticks(pid: int | None) -> int | None:
    """utime + stime of Cassandra's process and its children, in clock ticks."""
    if pid is None:
        return None
    total = 0
    for process in [pid, *_children(pid)]:
        try:
            stat = Path(f"/proc/{process}/stat").read_text()
        except FileNotFoundError:  # a child that exited meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()  # fields from the 3rd on; the name may hold spaces
        total += int(fields[11]) + int(fields[12])  # fields 14 and 15
    return total


def _children(pid: int) -> list[int]:
    found = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in map(int, children.read_text().split()):
            found += [child, *_children(child)]
    return found


def cassandra_pid() -> int | None:
    try:
        pid = int(PID_FILE.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


@dataclass
class Figures:
    label: str
    driver: str
    driver_version: str
    reactor: str
    protocol: int
    loop: str
    workload: str
    statements: int
    concurrency: int
    seconds: float
    statements_per_s: float
    client_cpu_ms_per_statement: float
    cassandra_cpu_ms_per_statement: float | None
    cassandra_idle_cpu_ms_per_s: float | None


async def drive(
    run: Callable[[Any, Params], Awaitable[list[Row]]],
    prepared: Any,
    params: Sequence[Params],
    concurrency: int,
) -> None:
    """Runs every statement with `concurrency` of them in flight."""
    pending = iter(params)

    async def worker() -> None:
        for one in pending:
            await run(prepared, one)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def message_params(count: int, chat_id: uuid.UUID | None = None) -> list[Params]:
    chats = [chat_id] if chat_id else [uuid.uuid4() for _ in range(100)]
    return [
        (7, chats[i % len(chats)], uuid.uuid1(), uuid.uuid4(), "alice", "bob", BODY, f"m-{i}")
        for i in range(count)
    ]


def claim_params(count: int) -> list[Params]:
    return [(uuid.uuid4(), f"c-{i}", uuid.uuid1(), 7) for i in range(count)]


async def measure(
    driver: Driver,
    prepared: Any,
    params: Sequence[Params],
    args: argparse.Namespace,
    pid: int | None,
) -> dict[str, float | None]:
    """Warms up, then runs the measured statements; idle Cassandra CPU is sampled first."""
    await drive(driver.run, prepared, params[: args.warmup], args.concurrency)
    measured = params[args.warmup :]
    idle_from = cassandra_cpu_ticks(pid)
    await asyncio.sleep(args.idle_seconds)
    idle_to = cassandra_cpu_ticks(pid)
    cpu, server, wall = client_cpu_s(), cassandra_cpu_ticks(pid), time.perf_counter()
    await drive(driver.run, prepared, measured, args.concurrency)
    seconds = time.perf_counter() - wall
    cpu, server_to = client_cpu_s() - cpu, cassandra_cpu_ticks(pid)
    count = len(measured)
    return {
        "seconds": seconds,
        "statements_per_s": count / seconds,
        "client_cpu_ms_per_statement": cpu * 1000 / count,
        "cassandra_cpu_ms_per_statement": None
        if server is None or server_to is None
        else (server_to - server) * CLOCK_TICK_MS / count,
        "cassandra_idle_cpu_ms_per_s": None
        if idle_from is None or idle_to is None
        else (idle_to - idle_from) * CLOCK_TICK_MS / args.idle_seconds,
    }


async def check(driver: Driver, prepared: Any, workload: str, params: Params) -> None:
    """One statement first: a misconfigured driver stops the run instead of being measured."""
    rows = await driver.run(prepared, params)
    ok = {
        "insert": rows == [],
        "lwt": len(rows) == 1 and rows[0]["[applied]"] is True,
        "history": len(rows) == PAGE,
    }[workload]
    if not ok:
        raise RuntimeError(f"{workload}: unexpected answer {rows[:2]}")


async def bench_driver(name: str, args: argparse.Namespace, loop_name: str) -> list[Figures]:
    factory = AcsyllaDriver if name == "acsylla" else PythonDriver
    driver: Driver = factory(args.host, args.port, args.protocol)
    keyspace = f"bench_drivers_{uuid.uuid4().hex[:8]}"
    pid, total = cassandra_pid(), args.warmup + args.statements
    await driver.open()
    try:
        for query in SCHEMA:
            await driver.ddl(query.format(ks=keyspace))
        prepared = {w: await driver.prepare(q.format(ks=keyspace)) for w, q in QUERIES.items()}
        history_chat = uuid.uuid4()
        fill = message_params(HISTORY_ROWS, history_chat)
        await drive(driver.run, prepared["insert"], fill, args.concurrency)
        params = {
            "insert": message_params(total + 1),
            "lwt": claim_params(total + 1),
            "history": [(history_chat, 7, PAGE)] * (total + 1),
        }
        figures = []
        for workload in args.workloads:
            await check(driver, prepared[workload], workload, params[workload][-1])
            measured = await measure(driver, prepared[workload], params[workload][:-1], args, pid)
            figures.append(_figures(name, driver, args, loop_name, workload, measured))
            print(json.dumps(asdict(figures[-1])), flush=True)
        return figures
    finally:
        await driver.ddl(f"DROP KEYSPACE IF EXISTS {keyspace}")
        await driver.close()


def _figures(
    name: str,
    driver: Driver,
    args: argparse.Namespace,
    loop_name: str,
    workload: str,
    measured: dict[str, Any],
) -> Figures:
    version, reactor = driver.describe()
    return Figures(
        label=label(name, args.protocol),
        driver=name,
        protocol=args.protocol,
        loop=loop_name,
        workload=workload,
        statements=args.statements,
        concurrency=args.concurrency,
        driver_version=version,
        reactor=reactor,
        **measured,
    )


def label(driver: str, protocol: int) -> str:
    return driver if protocol == PROTOCOL[driver] else f"{driver}-v{protocol}"


def run_in_loop(main: Callable[[str], Coroutine[Any, Any, T]]) -> T:
    """Runs `main(loop name)` on uvloop when it is installed, as the service does."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main("asyncio"))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main(f"uvloop {metadata.version('uvloop')}"))


def run_one(args: argparse.Namespace) -> None:
    name = args.driver
    if args.protocol is None:
        args.protocol = PROTOCOL[name]
    figures = run_in_loop(lambda loop: bench_driver(name, args, loop))
    out = RESULTS / f"cassandra_drivers-{label(name, args.protocol)}.json"
    out.write_text("".join(json.dumps(asdict(f)) + "\n" for f in figures))


def command_for(driver: str, protocol: int, args: argparse.Namespace) -> list[str]:
    """This script for one driver: here for the workspace's driver, else in a throw-away
    environment with the same interpreter and uvloop."""
    own = [
        str(Path(__file__).resolve()),
        *("--driver", driver, "--protocol", str(protocol)),
        *("--statements", str(args.statements), "--warmup", str(args.warmup)),
        *("--concurrency", str(args.concurrency), "--idle-seconds", str(args.idle_seconds)),
        *("--host", args.host, "--port", str(args.port), "--workloads", *args.workloads),
    ]
    package = PACKAGES[driver]
    if package is None:
        return [sys.executable, *own]
    extra = [package]
    with contextlib.suppress(metadata.PackageNotFoundError):  # then plain asyncio there too
        extra.append(f"uvloop=={metadata.version('uvloop')}")
    withs = [part for p in extra for part in ("--with", p)]
    uv = [args.uv, "run", "--isolated", "--no-project", "--python", sys.executable]
    return [*uv, *withs, "python", *own]


def run_all(args: argparse.Namespace) -> None:
    figures: list[dict[str, Any]] = []
    for driver, protocol in RUNS:
        print(f"== {label(driver, protocol)}", flush=True)
        subprocess.run(command_for(driver, protocol, args), cwd=ROOT, check=True)
        out = RESULTS / f"cassandra_drivers-{label(driver, protocol)}.json"
        figures += [json.loads(line) for line in out.read_text().splitlines()]
    print_table(figures)
    summary = {
        "measured_at": datetime.now(UTC).isoformat(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "baseline": BASELINE,
        "figures": figures,
    }
    (RESULTS / "cassandra_drivers.json").write_text(json.dumps(summary, indent=2))
    print(f"wrote {RESULTS / 'cassandra_drivers.json'}")


def print_table(figures: list[dict[str, Any]]) -> None:
    base = {f["workload"]: f for f in figures if f["label"] == BASELINE}
    print("CPU in ms per statement; 'vs base' is client CPU over cassandra-driver's (v5)")
    head = f"{'driver':<20} {'proto':>5} {'workload':<8} {'stmt/s':>8} {'client':>8}"
    print(f"{head} {'vs base':>8} {'cassandra':>9}")
    for f in figures:
        cpu = f["client_cpu_ms_per_statement"]
        ratio = cpu / base[f["workload"]]["client_cpu_ms_per_statement"]
        server = f["cassandra_cpu_ms_per_statement"]
        print(
            f"{f['driver']:<20} {'v' + str(f['protocol']):>5} {f['workload']:<8}"
            f" {f['statements_per_s']:>8.0f} {cpu:>8.3f}"
            f" {ratio:>7.2f}x {'-' if server is None else f'{server:.3f}':>9}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="every driver, each in its process")
    which.add_argument("--driver", choices=list(PACKAGES), help="one driver, in this process")
    parser.add_argument("--protocol", type=int, help="native protocol (default: v5, acsylla v4)")
    parser.add_argument("--statements", type=int, default=20_000, help="measured, per workload")
    parser.add_argument("--warmup", type=int, default=2_000, help="statements before measuring")
    parser.add_argument("--concurrency", type=int, default=50, help="statements in flight")
    parser.add_argument("--idle-seconds", type=float, default=2.0, help="Cassandra idle sample")
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9042)
    parser.add_argument("--uv", default=os.environ.get("UV") or shutil.which("uv") or "uv")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.driver:
        run_one(args)
    else:
        run_all(args)


if __name__ == "__main__":
    main()
