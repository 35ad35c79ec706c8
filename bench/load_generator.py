"""wrk runs and the CPU each process spent on them.

wrk is a compiled load generator (Debian's `wrk` package): two of its threads keep thousands of
requests per second in flight where a Python client saturates near 240/s, so its figures
measure the server. Each run's Lua script ends by printing one `RESULT {json}` line (see
`RESULT_LUA`); a run without a script is parsed from wrk's own report.

CPU time is read from the kernel (/proc/PID/stat) before and after a run, for every process
named, and divided by the requests the run completed: milliseconds of CPU per request. The
same file gives resident memory, for the benchmarks that watch it (`usage`).
"""

import json
import os
import re
import resource
import shutil
import statistics
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Lua that sums the non-2xx answers of every wrk thread and prints one JSON line at the end.
# A script using it sets `bad` per thread (counted in `response`) and registers its threads
# in `threads` from `setup`.
RESULT_LUA = """
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("bad") end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p90_ms": %.2f, ' ..
    '"p99_ms": %.2f, "unexpected_status": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, bad,
    e.connect + e.read + e.write + e.timeout + e.status))
end
"""


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: `make install` installs it (Debian's wrk package)")


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time a process, its descendants and their children already reaped
    (all their threads) have used so far: a launcher's real work often runs in a child (the
    Firestore emulator's JVM, Postgres under `runuser`, a process per Postgres connection)."""
    table = _process_table()
    return _cpu_seconds(_tree(pid, table), table)


def usage(pids: dict[str, int | None]) -> dict[str, dict[str, float]]:
    """Per named process tree, from one reading of /proc: `cpu_s` as `cpu_seconds` counts it,
    and `rss_mb`, the sum of the resident memory of its processes (pages two of them share,
    such as a forked worker's, count once per process)."""
    table = _process_table()
    page_mb = os.sysconf("SC_PAGE_SIZE") / 2**20
    figures = {}
    for name, pid in pids.items():
        tree = _tree(pid, table)
        rss_mb = sum(int(table[p][21]) for p in tree) * page_mb
        figures[name] = {"cpu_s": _cpu_seconds(tree, table), "rss_mb": rss_mb}
    return figures


def _cpu_seconds(tree: list[int], table: dict[int, list[str]]) -> float:
    # utime, stime, and cutime, cstime: the time of children it has reaped
    ticks = sum(sum(int(f) for f in table[p][11:15]) for p in tree)
    return ticks / os.sysconf("SC_CLK_TCK")


def _process_table() -> dict[int, list[str]]:
    """The fields of /proc/PID/stat after the command name, for every process."""
    table: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                table[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # exited meanwhile
                continue
    return table


def _tree(pid: int | None, table: dict[int, list[str]]) -> list[int]:
    """`pid` and every descendant of it that `table` holds."""
    children: dict[int, list[int]] = {}
    for child, fields in table.items():
        children.setdefault(int(fields[1]), []).append(child)
    found: list[int] = []
    pending = [pid] if pid in table else []
    while pending:
        current = pending.pop()
        found.append(current)
        pending += children.get(current, [])
    return found


def wrk_threads(connections: int) -> int:
    """The threads `wrk` runs with: two, or one for a single connection."""
    return min(2, connections)


def wrk(
    url: str,
    seconds: float,
    connections: int,
    script: Path | None = None,
    args: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One wrk run (two threads, at most `connections` connections); its figures plus the CPU
    time wrk itself used. `args` reach the script's `init(args)`."""
    threads = wrk_threads(connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s"]
    if script is not None:
        command += ["-s", str(script)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(
        [*command, "--latency", url, "--", *args], capture_output=True, text=True, check=True
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if script is not None:
        result: dict[str, Any] = json.loads(output.split("RESULT ", 1)[1].splitlines()[0])
    else:
        result = _parse_report(output)
    result["per_second"] = result["requests"] / result["seconds"]
    result["cpu_seconds"] = {
        "wrk": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    }
    return result


def _parse_report(output: str) -> dict[str, Any]:
    """wrk's own report: requests, duration, latency percentiles, non-2xx answers."""
    done = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    assert done, output
    unit = {"s": 1.0, "ms": 0.001, "m": 60.0}[done.group(3)]

    def latency(label: str) -> float:
        found = re.search(rf"{label}%\s+([\d.]+)(\w+)", output)
        assert found, output
        return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests": int(done.group(1)),
        "seconds": float(done.group(2)) * unit,
        "p50_ms": latency("50"),
        "p90_ms": latency("90"),
        "p99_ms": latency("99"),
        "unexpected_status": int(non_2xx.group(1)) if non_2xx else 0,
    }


def measured(
    pids: dict[str, int | None],
    run: Callable[[], dict[str, Any]],
    settle: Callable[[dict[str, Any]], Any] | None = None,
) -> dict[str, Any]:
    """Runs `run()` and adds the CPU milliseconds per request of each process in `pids`.

    `settle(result)`, when given, is called after the run and before the second CPU reading:
    work a request causes later (a downstream stage catching up) is then counted too.
    """
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    result = run()
    if settle is not None:
        result["settle"] = settle(result)
    spent = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    spent |= result.pop("cpu_seconds")
    requests = max(result["requests"], 1)
    result["cpu_ms_per_request"] = {name: s * 1000 / requests for name, s in spent.items()}
    return result


def median_of(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of the rounds' figures (sums for the error counts), the rounds kept."""
    names = rounds[0]["cpu_ms_per_request"]
    return {
        "per_second": statistics.median(r["per_second"] for r in rounds),
        "p50_ms": statistics.median(r["p50_ms"] for r in rounds),
        "p90_ms": statistics.median(r["p90_ms"] for r in rounds),
        "p99_ms": statistics.median(r["p99_ms"] for r in rounds),
        "unexpected_status": sum(r["unexpected_status"] for r in rounds),
        "socket_errors": sum(r.get("socket_errors", 0) for r in rounds),
        "cpu_ms_per_request": {
            n: statistics.median(r["cpu_ms_per_request"][n] for r in rounds) for n in names
        },
        "rounds": rounds,
    }


def print_table(summary: dict[str, dict[str, Any]], baseline: str) -> None:
    """One row per measured run: rate and its ratio to `baseline`, latency, errors, and the
    CPU milliseconds per request of every process (medians of the rounds)."""
    base = summary[baseline]
    names = list(dict.fromkeys(n for row in summary.values() for n in row["cpu_ms_per_request"]))
    header = f"{'run':<30} {'req/s':>7} {'vs base':>8} {'p50':>6} {'p90':>6} {'p99':>6} {'bad':>5}"
    print(f"base: {baseline}; latency in ms; CPU in ms per request, per process")
    print(header + "  " + " ".join(f"{n[:10]:>10}" for n in names) + f" {'total':>7}")
    for run, row in summary.items():
        cpu = row["cpu_ms_per_request"]
        total = sum(v for n, v in cpu.items() if n != "wrk")
        print(
            f"{run:<30} {row['per_second']:>7.0f} {row['per_second'] / base['per_second']:>7.2f}x"
            f" {row['p50_ms']:>6.1f} {row['p90_ms']:>6.1f} {row['p99_ms']:>6.1f}"
            f" {row['unexpected_status'] + row['socket_errors']:>5}  "
            + " ".join(f"{cpu[n]:>10.3f}" if n in cpu else f"{'-':>10}" for n in names)
            + f" {total:>7.2f}"
        )
