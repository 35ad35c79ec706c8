"""`make k8s-test`: the dev overlay on a real one-node cluster built on this machine
(`devstack cluster`), driven the way a user of Tilt drives it: images loaded into the node,
every pod Ready on the overlay's own probes, Services reached through `kubectl port-forward`.

Opt-in and root only; not part of `make test`. The cluster comes up once for the session and
goes down at its end, and the run fails if anything of it is left on the machine
(K8S_TEST_KEEP=1 leaves it running). The table of timings is printed at the end and written to
.devstack/k8s-report.json.
"""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from devstack.cluster import lifecycle
from devstack.components.base import Context
from devstack.services import BACKEND
from devstack.settings import REPO_ROOT, StackSettings

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "end_to_end"))
sys.path.insert(0, str(Path(__file__).parents[1] / "faults"))

from cluster_support import (
    CLUSTER,
    NAMESPACE,
    REPORT,
    PortForward,
    fresh_namespace,
    kubectl,
    port_answers,
)  # fmt: skip
from end_to_end_support import Pipeline
from fault_load import seconds_until

# The ports the overlay's UI hands the browser for the emulators, and the ones `make up` uses
# for the services: the same numbers, so one stack at a time.
FORWARDS = {
    "ui": (3000, 3000),
    "auth": (8000, 8000),
    "chat": (9000, 9000),
    "aggregator": (9101, 9101),
    "aggregated-consumer": (9102, 9102),
    "firestore": (8080, 8080),
    "firebase-auth": (9099, 9099),
}
REPORT_JSON = REPO_ROOT / ".devstack" / "k8s-report.json"
# The dev overlay's Firebase project.
PROJECT = "demo-chat"
# Tilt forwards the same ports itself, so its tests come last.
ORDER = ["test_smoke", "test_pod_deletion", "test_scale_out", "test_tilt"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A conftest's hook sees the whole session's items: only this folder's are ordered here.
    here = Path(__file__).parent
    ours = [item for item in items if item.path.is_relative_to(here)]
    ours.sort(key=lambda item: ORDER.index(item.path.stem))
    positions = [index for index, item in enumerate(items) if item.path.is_relative_to(here)]
    for position, item in zip(positions, ours, strict=True):
        items[position] = item
    for item in ours:
        # Image builds and whole deployments take minutes, not the unit tests' 300 s.
        item.add_marker(pytest.mark.timeout(1800))
    if os.geteuid() != 0:
        for item in ours:
            item.add_marker(pytest.mark.skip(reason="the one-node cluster needs root"))


@pytest.fixture(scope="session")
def node() -> Iterator[lifecycle.Node]:
    cold = not (CLUSTER.state_dir / "pki").exists()
    built = time.monotonic()
    node = lifecycle.build(CLUSTER)
    node.binaries.ensure()
    REPORT.add("binaries found or built", time.monotonic() - built)
    timings = lifecycle.up(node, CLUSTER)
    REPORT.add(f"cluster start ({'cold' if cold else 'warm'}), node Ready", timings["node ready"])
    try:
        yield node
    finally:
        if os.environ.get("K8S_TEST_KEEP") != "1":
            started = time.monotonic()
            left = lifecycle.down(node, CLUSTER)
            REPORT.add("k8s-down", time.monotonic() - started)
            REPORT.add("k8s-down leftovers", ", ".join(left) or "none")
            assert left == [], left


def _run(*argv: str) -> None:
    environment = os.environ | {"KUBECONFIG": str(CLUSTER.kubeconfig)}
    subprocess.run(argv, check=True, cwd=REPO_ROOT, env=environment)


@pytest.fixture(scope="session")
def deployed(node: lifecycle.Node) -> None:
    started = time.monotonic()
    _run("deploy/checks/cluster-images.sh", str(node.containerd.socket))
    REPORT.add("images built and loaded into the node", time.monotonic() - started)
    started = time.monotonic()
    fresh_namespace()
    REPORT.add("namespace removed, volumes freed", time.monotonic() - started)
    started = time.monotonic()
    _run("k8s/dev-secret.sh")
    rendered = subprocess.run(
        ["kubectl", "kustomize", "k8s/overlays/dev", "--load-restrictor=LoadRestrictionsNone"],
        cwd=REPO_ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    kubectl("apply", "-f", "-", stdin=rendered)
    # As the process suites do: everyone comes through a port-forward or the UI, one address
    # for the per-address sign-up limit; and counters of this run only.
    run = uuid.uuid4().hex[:8]
    kubectl("--namespace", NAMESPACE, "set", "env", "deployment/auth",
            "AUTH_SIGNUPS_PER_ADDRESS=1000", f"AUTH_RATE_LIMIT_PREFIX=k8s-test-{run}")  # fmt: skip
    kubectl("--namespace", NAMESPACE, "set", "env", "deployment/chat",
            f"CHAT_RATE_LIMIT_PREFIX=k8s-test-{run}")  # fmt: skip
    wait_for_rollout()
    REPORT.add("overlay applied until every pod Ready", time.monotonic() - started)


def wait_for_rollout(timeout: str = "900s") -> None:
    """Every Deployment and StatefulSet of the namespace rolled out, the migration Job done."""
    kubectl("--namespace", NAMESPACE, "wait", "--for=condition=complete", "job/migrate",
            f"--timeout={timeout}")  # fmt: skip
    for kind in ("statefulset", "deployment"):
        names = kubectl("--namespace", NAMESPACE, "get", kind, "-o", "name").split()
        for name in names:
            kubectl("--namespace", NAMESPACE, "rollout", "status", name, f"--timeout={timeout}")


@pytest.fixture(scope="session")
def forwards(deployed: None) -> Iterator[dict[str, PortForward]]:
    taken = [local for local, _ in FORWARDS.values() if port_answers(local)]
    assert not taken, f"ports {taken} are taken (is `make up` running? stop it first)"
    running = {name: PortForward(name, *ports).start() for name, ports in FORWARDS.items()}
    try:
        for name, forward in running.items():
            port = forward.local
            seconds_until(partial(port_answers, port), 60, f"the port-forward to {name}")
        yield running
    finally:
        for forward in running.values():
            forward.stop()


@pytest.fixture(scope="session")
def pipeline(forwards: dict[str, PortForward]) -> Iterator[Pipeline]:
    settings = StackSettings(
        auth_port=forwards["auth"].local,
        chat_port=forwards["chat"].local,
        aggregator_port=forwards["aggregator"].local,
        consumer_port=forwards["aggregated-consumer"].local,
        firestore_emulator_host=f"127.0.0.1:{forwards['firestore'].local}",
        firebase_auth_emulator_host=f"127.0.0.1:{forwards['firebase-auth'].local}",
    )
    context = Context(settings)
    services = {component.name: component for component in (cls(context) for cls in BACKEND)}
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("FIRESTORE_EMULATOR_HOST", settings.endpoints.firestore_emulator_host)
        yield Pipeline(settings, services, PROJECT)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not REPORT.rows:
        return
    terminalreporter.section("k8s-test")
    terminalreporter.write_line(REPORT.render())
    REPORT.write(REPORT_JSON)
