"""What the cluster suite drives: kubectl on the node's kubeconfig, port-forwards that come back
when their pod does (as Tilt's do), and the table `make k8s-test` prints."""

import json
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from devstack.cluster import lifecycle
from devstack.cluster.settings import ClusterSettings

NAMESPACE = "chat"
CLUSTER = ClusterSettings()


kubectl = partial(lifecycle.kubectl, CLUSTER)
"""kubectl on the node's kubeconfig (devstack.cluster.lifecycle.kubectl)."""


def fresh_namespace() -> None:
    """No `chat` namespace, and the volumes its claims held free again: every run deploys
    from nothing, by kubectl or by Tilt (Tilt restarting pods another tool deployed counts a
    Kafka that exits 143 on SIGTERM as a failed pod)."""
    if kubectl("get", "namespace", "--ignore-not-found", "-o", "name", NAMESPACE).strip():
        kubectl("delete", "namespace", NAMESPACE, "--wait=true", "--timeout=300s")
    for volume in json.loads(kubectl("get", "persistentvolumes", "-o", "json"))["items"]:
        if volume["status"].get("phase") == "Released":
            # The node's volumes are folders; empty, they are offered again.
            folder = Path(volume["spec"]["hostPath"]["path"])
            for entry in folder.iterdir():
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            kubectl("patch", "persistentvolume", volume["metadata"]["name"], "--type", "json",
                    "-p", '[{"op": "remove", "path": "/spec/claimRef"}]')  # fmt: skip


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class PortForward:
    """`kubectl port-forward svc/NAME LOCAL:REMOTE`, started again whenever it exits (it does
    when the pod behind it goes away), until stopped."""

    def __init__(self, service: str, local: int, remote: int) -> None:
        self.service, self.local, self.remote = service, local, remote
        self.restarts = -1
        self._process: subprocess.Popen[bytes] | None = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._keep, daemon=True)

    def start(self) -> "PortForward":
        self._thread.start()
        return self

    def _keep(self) -> None:
        while not self._stopped.is_set():
            self.restarts += 1
            self._process = subprocess.Popen(
                ["kubectl", "--kubeconfig", str(CLUSTER.kubeconfig), "--namespace", NAMESPACE,
                 "port-forward", "--address", "127.0.0.1", f"svc/{self.service}",
                 f"{self.local}:{self.remote}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            self._process.wait()
            self._stopped.wait(0.5)

    def stop(self) -> None:
        self._stopped.set()
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
        self._thread.join(timeout=10)


@dataclass
class Report:
    """One row per step of the run: what was done, how long it took, what it found."""

    rows: list[tuple[str, str]] = field(default_factory=list)

    def add(self, step: str, value: float | str) -> None:
        self.rows.append((step, f"{value:.1f} s" if isinstance(value, float) else value))

    def render(self) -> str:
        width = max(len(step) for step, _ in self.rows)
        return "\n".join(f"{step:<{width}}  {value}" for step, value in self.rows)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dict(self.rows), indent=2))


REPORT = Report()
