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

BIN = Path(sys.executable).parent / "chat-service"


@pytest.mark.slow
def test_migrate_then_serve_until_sigterm(
    stack: Endpoints, fresh_keyspace: str, messages_topic: str
) -> None:
    env = {
        **os.environ,
        **stack.as_environment(),
        "APP_ENV": "test",
        "JWT_SECRET": "x" * 48,
        "CHAT_KEYSPACE": fresh_keyspace,
        "CHAT_MESSAGES_TOPIC": messages_topic,
    }
    migrated = subprocess.run(
        [BIN, "migrate"], env=env, capture_output=True, text=True, timeout=120
    )
    assert migrated.returncode == 0, migrated.stderr
    assert f"applied=[{', '.join(str(s.version) for s in STEPS)}]" in migrated.stderr

    port = _spare_port()
    server = subprocess.Popen([BIN, "serve", "--port", str(port)], env=env)
    try:
        ready = _wait_for(f"http://127.0.0.1:{port}/chat/api/ready/", server)
        assert ready.json() == {"status": "ready", "cassandra": "ok", "kafka": "ok"}
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0
    finally:
        if server.poll() is None:
            server.kill()


def _spare_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


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
