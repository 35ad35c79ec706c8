"""Scale out on the node: metrics-server reports CPU, a HorizontalPodAutoscaler takes the chat
Deployment from 1 to 3 replicas under send load and back to 1 once it stops; the Service spreads
the load over the replicas, one user's send budget stays one budget across them (its counters
are in Redis), and the audit finds every acknowledged message once."""

import asyncio
import hashlib
import io
import json
import subprocess
import tarfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cluster_support import NAMESPACE, REPORT, PortForward, kubectl
from end_to_end_support import Pipeline, open_chat, sign_up_and_log_in
from fault_load import LoadShape, run_under_load, seconds_until
from fault_report import FaultRow, check_and_record

from devstack.cluster.lifecycle import Node
from devstack.components.base import StackError
from devstack.settings import REPO_ROOT
from devstack.testing import unique_name

HERE = Path(__file__).parent
METRICS_SERVER_IMAGE = "metrics-server:v0.8.0"
HPA = {
    "apiVersion": "autoscaling/v2",
    "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "chat", "namespace": NAMESPACE},
    "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "chat"},
        "minReplicas": 1,
        "maxReplicas": 3,
        "metrics": [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 30}}}],
        # Back to one replica soon after the load ends, for the test; production keeps 300 s.
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 20}},
    },
}  # fmt: skip


def _metrics_server_image(node: Node) -> None:
    """A one-file image of the static binary (a `docker save` archive written here, no engine
    needed), imported into the node's containerd."""
    binary = subprocess.run(
        ["deploy/checks/build-go-tool.sh", "metrics-server"],
        cwd=REPO_ROOT, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    subprocess.run(
        ["ctr", "--address", str(node.containerd.socket), "--namespace", "k8s.io",
         "images", "import", "-"],
        input=one_file_image(Path(binary), METRICS_SERVER_IMAGE), check=True,
        capture_output=True,
    )  # fmt: skip


def one_file_image(binary: Path, tag: str) -> bytes:
    """An image archive in `docker save`'s layout: one layer holding `binary` at the root,
    which is also the entrypoint."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as archive:
        archive.add(binary, arcname=binary.name.rsplit("-v", 1)[0])
    layer_bytes = layer.getvalue()
    entrypoint = "/" + binary.name.rsplit("-v", 1)[0]
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Entrypoint": [entrypoint], "User": "10001"},
        "rootfs": {"type": "layers",
                   "diff_ids": [f"sha256:{hashlib.sha256(layer_bytes).hexdigest()}"]},
    }).encode()  # fmt: skip
    manifest = json.dumps(
        [{"Config": "config.json", "RepoTags": [tag], "Layers": ["layer.tar"]}]
    ).encode()
    image = io.BytesIO()
    with tarfile.open(fileobj=image, mode="w") as archive:
        for name, data in (("layer.tar", layer_bytes), ("config.json", config),
                           ("manifest.json", manifest)):  # fmt: skip
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return image.getvalue()


def _pod_metrics_served() -> bool:
    try:
        kubectl("top", "pods", "--namespace", NAMESPACE)
    except StackError:
        return False
    return True


def _replicas() -> int:
    status = json.loads(kubectl("--namespace", NAMESPACE, "get", "deployment/chat", "-o", "json"))
    return int(status["status"].get("readyReplicas") or 0)


@dataclass
class ServicePipeline(Pipeline):
    """The pipeline with sends through the chat Service's cluster address (kube-proxy spreads
    them over every replica), where a port-forward would pin them to one pod."""

    service_url: str = ""

    @property
    def chat_url(self) -> str:
        return self.service_url


@pytest.fixture(scope="module")
def autoscaled(node: Node, forwards: dict[str, PortForward]) -> Iterator[str]:
    started = time.monotonic()
    _metrics_server_image(node)
    kubectl("apply", "-f", str(HERE / "metrics-server.yaml"))
    kubectl("wait", "--for=condition=Available", "apiservice/v1beta1.metrics.k8s.io",
            "--timeout=180s")  # fmt: skip
    seconds_until(_pod_metrics_served, 180, "metrics for the namespace's pods")
    REPORT.add("metrics-server ready", time.monotonic() - started)
    kubectl("apply", "-f", "-", stdin=json.dumps(HPA))
    address = kubectl("--namespace", NAMESPACE, "get", "service/chat",
                      "-o", "jsonpath={.spec.clusterIP}")  # fmt: skip
    try:
        yield f"http://{address}:9000/chat/api"
    finally:
        kubectl("--namespace", NAMESPACE, "delete", "hpa/chat", "--ignore-not-found")


async def test_the_chat_deployment_scales_out_to_three_and_back_without_losing_a_message(
    autoscaled: str, pipeline: Pipeline
) -> None:
    spread = ServicePipeline(**vars(pipeline), service_url=autoscaled)
    shape = LoadShape(conversations=12, fault_after=40, pace=0.25, tail=10)

    def three_replicas() -> float:
        seconds = seconds_until(lambda: _replicas() == 3, 420, "three chat replicas")
        REPORT.add("scale out 1 -> 3 under load", seconds)
        _one_budget_across_replicas(spread)
        return seconds

    run = await run_under_load(spread, shape, three_replicas)
    rows: list[FaultRow] = []
    found = check_and_record("scale out 1 -> 3", spread, run, rows.append)
    REPORT.add("scale out: acknowledged / lost / duplicated",
               f"{found.acknowledged} / {rows[0].lost} / {rows[0].duplicated}")  # fmt: skip
    seconds = await asyncio.to_thread(seconds_until, lambda: _replicas() == 1, 420, "back to one")
    REPORT.add("scale in 3 -> 1 once the load stopped", seconds)


def _one_budget_across_replicas(pipeline: Pipeline) -> None:
    """40 sends of one user at once over three replicas: the burst allowance (20) and the
    refill (5/s) hold for the user, not per replica."""
    with httpx.Client(timeout=20) as client:
        alice = sign_up_and_log_in(client, pipeline, unique_name("alice"))
        bob = sign_up_and_log_in(client, pipeline, unique_name("bob"))
        chat_id = open_chat(client, pipeline, alice, bob)
    # A connection per request, so that kube-proxy picks a replica for each.
    with httpx.Client(timeout=20, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        started = time.monotonic()
        statuses = [
            client.post(f"{pipeline.chat_url}/v1/messaging/", headers=alice.headers, json={
                "chat_id": chat_id, "to_user": bob.id, "body": f"budget {n}",
                "client_message_id": uuid.uuid4().hex,
            }).status_code
            for n in range(40)
        ]  # fmt: skip
        elapsed = time.monotonic() - started
    accepted = statuses.count(201)
    REPORT.add("one user's 40 sends over 3 replicas", f"{accepted} accepted in {elapsed:.1f} s")
    assert set(statuses) <= {201, 429}, statuses
    assert accepted <= 20 + 5 * elapsed + 1, statuses
