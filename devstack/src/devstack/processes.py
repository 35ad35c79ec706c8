"""Background processes with a pid file and a log file each, stopped by their own pid."""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers signal 0; count it as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def running_pid(pid_file: Path) -> int | None:
    """The pid recorded in `pid_file` if that process still runs."""
    pid = read_pid(pid_file)
    return pid if pid is not None and pid_alive(pid) else None


def spawn(
    argv: Sequence[str],
    *,
    pid_file: Path,
    log_file: Path,
    env: Mapping[str, str],
    cwd: Path,
) -> int:
    """Starts `argv` in a session of its own (so its children can be stopped with it)."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    pid_file.write_text(f"{process.pid}\n")
    return process.pid


def process_group_members(pgid: int) -> list[int]:
    """Pids still running in the process group `pgid` (our process and its children)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def stop(pid_file: Path, *, stop_signal: signal.Signals, grace_seconds: float) -> bool:
    """Stops the recorded process and its whole group; True if something was running."""
    pid = read_pid(pid_file)
    if pid is None:
        return False
    was_running = bool(process_group_members(pid)) or pid_alive(pid)
    _signal_group(pid, stop_signal)
    deadline = time.monotonic() + grace_seconds
    while process_group_members(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if process_group_members(pid):
        _signal_group(pid, signal.SIGKILL)
        while process_group_members(pid) and time.monotonic() < deadline + 10:
            time.sleep(0.1)
    pid_file.unlink(missing_ok=True)
    return was_running


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def log_tail(log_file: Path, lines: int = 25) -> str:
    try:
        text = log_file.read_text(errors="replace")
    except OSError:
        return "(no log yet)"
    return "\n".join(text.splitlines()[-lines:])
