"""deploy/healthcheck.py, the containers' health check: 0 only for a 2xx answer."""

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from deployment_manifests import REPO

SCRIPT = REPO / "deploy" / "healthcheck.py"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = int(self.path.strip("/"))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def check(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, SCRIPT, url], capture_output=True, text=True, timeout=30, check=False
    )


@pytest.mark.parametrize(
    ("status", "healthy"), [(200, True), (204, True), (404, False), (503, False)]
)
def test_only_a_2xx_answer_is_healthy(server: str, status: int, healthy: bool) -> None:
    assert (check(f"{server}/{status}").returncode == 0) is healthy


def test_a_closed_port_is_unhealthy_with_the_reason_on_stderr(server: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    result = check(f"http://127.0.0.1:{closed}/health")
    assert result.returncode == 1
    assert "unhealthy" in result.stderr


def test_anything_but_an_http_url_is_a_usage_error() -> None:
    assert check("file:///etc/passwd").returncode == 2
