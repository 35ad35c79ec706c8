"""What the benchmark scripts share: nearest-rank percentiles, spare ports, scratch databases
and waiting for a freshly started service."""

import socket
import subprocess
import time

import httpx

from devstack.testing import admin_sql

__all__ = ["admin_sql", "percentile", "spare_port", "wait_healthy"]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least q % of samples at or below."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_healthy(url: str, process: subprocess.Popen[bytes], within: float = 90) -> None:
    """Waits until `url` answers 200; fails early if the process exits."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the service exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not become healthy within {within:.0f} s")
