import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from chat_service.migrations import STEPS
from devstack.settings import Endpoints
from devstack.testing import free_port

BIN = Path(sys.executable).parent / "chat-service"


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_migrate_then_serve_until_sigterm(
    stack: Endpoints, fresh_keyspace: str, messages_topic: str, workers: int
) -> None:
    env = {
        **os.environ,
        **stack.as_environment(),
        "APP_ENV": "test",
        "JWT_SECRET": "x" * 48,
        "CHAT_KEYSPACE": fresh_keyspace,
        "CHAT_MESSAGES_TOPIC": messages_topic,
        "CHAT_WORKERS": str(workers),
    }
    migrated = subprocess.run(
        [BIN, "migrate"], env=env, capture_output=True, text=True, timeout=120
    )
    assert migrated.returncode == 0, migrated.stderr
    assert f"applied=[{', '.join(str(s.version) for s in STEPS)}]" in migrated.stderr

    port = free_port()
    server = subprocess.Popen([BIN, "serve", "--port", str(port)], env=env)
    try:
        ready = _wait_for(f"http://127.0.0.1:{port}/chat/api/ready/", server)
        assert ready.json() == {"status": "ready", "cassandra": "ok", "kafka": "ok"}
        workers_seen = _children(server.pid)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        assert _all_gone(workers_seen, within=10), "a worker outlived the server"
    finally:
        if server.poll() is None:
            server.kill()


def test_several_workers_over_in_process_limits_are_refused() -> None:
    env = {**os.environ, "CHAT_WORKERS": "2", "CHAT_RATE_LIMIT_STORAGE": "memory://"}
    refused = subprocess.run(
        [BIN, "serve", "--port", "1"], env=env, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode != 0
    assert "CHAT_WORKERS=2 needs rate limits shared between processes" in refused.stderr


def _all_gone(pids: list[int], within: float) -> bool:
    """Whether every process has exited (a zombie awaiting its reaper counts as exited)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = []
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                alive.append(pid)
        if not alive:
            return True
        time.sleep(0.2)
    return False


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return found


def _wait_for(url: str, server: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "chat-service exited early"
        try:
            response = httpx.get(url, timeout=5)
            if response.status_code == 200:
                return response
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} never became ready")
