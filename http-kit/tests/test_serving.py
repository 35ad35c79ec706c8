"""`serve` runs the app under uvicorn, believes X-Forwarded-For only from trusted proxies, and
exits with status 0 once a SIGTERM has drained it and its lifespan has closed."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx

from devstack.testing import free_port

APP = """
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request

@asynccontextmanager
async def lifespan(app):
    yield
    Path("{closed}").write_text("closed")

def create():
    app = FastAPI(lifespan=lifespan)

    @app.get("/client")
    async def client(request: Request) -> str:
        return request.client.host if request.client else ""

    return app
"""

SERVE = """
from http_kit import serve
serve("served_app:create", host="127.0.0.1", port={port}, workers=1,
      trusted_proxies="127.0.0.1", proxies_setting="TEST_TRUSTED_PROXIES")
"""


def test_serves_until_sigterm_then_exits_zero_after_the_lifespan(tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    (tmp_path / "served_app.py").write_text(APP.format(closed=closed))
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    code = textwrap.dedent(SERVE.format(port=port))
    server = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        forwarded = _get_when_up(f"http://127.0.0.1:{port}/client", server)
        assert forwarded == "203.0.113.7"  # the loopback peer is a trusted proxy
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        assert closed.read_text() == "closed"
    finally:
        if server.poll() is None:
            server.kill()


def _get_when_up(url: str, server: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited early"
        try:
            response = httpx.get(url, headers={"X-Forwarded-For": "203.0.113.7"}, timeout=2)
            return str(response.json())
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"{url} never answered")
