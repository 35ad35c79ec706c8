"""What the benchmark scripts share: nearest-rank percentiles, free ports, scratch databases
and waiting for a freshly started service."""

import subprocess
import time

import httpx

from devstack.testing import admin_sql, free_port

__all__ = ["admin_sql", "free_port", "percentile", "wait_healthy"]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least q % of samples at or below."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


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
