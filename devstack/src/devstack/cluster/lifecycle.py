"""Bringing the node up in order, and down until nothing of it is left."""

import subprocess
import time
from dataclasses import dataclass

from devstack import processes, stack
from devstack.cluster import configs, network
from devstack.cluster.binaries import Binaries
from devstack.cluster.certificates import write_pki
from devstack.cluster.node import (
    ApiServer,
    Containerd,
    ControllerManager,
    CoreDns,
    Etcd,
    Kubelet,
    KubeProxy,
    NodeProcess,
    Registry,
    Scheduler,
)  # fmt: skip
from devstack.cluster.settings import ClusterSettings
from devstack.components.base import Context, StackError
from devstack.settings import StackSettings


@dataclass
class Node:
    """The node's processes, in start order, grouped by what each group waits for."""

    binaries: Binaries
    etcd: Etcd
    apiserver: ApiServer
    control: list[NodeProcess]
    containerd: Containerd
    registry: Registry
    workers: list[NodeProcess]

    @property
    def all(self) -> list[NodeProcess]:
        return [
            self.etcd, self.apiserver, *self.control, self.containerd, self.registry,
            *self.workers,
        ]  # fmt: skip

    @property
    def kubelet(self) -> NodeProcess:
        return next(p for p in self.workers if isinstance(p, Kubelet))


def build(cluster: ClusterSettings, progress: object = print) -> Node:
    """The node's processes; their programs are looked up (and built) only to start them."""
    context = Context(
        StackSettings(state_dir=cluster.state_dir, host=str(cluster.node_address)),
        progress=progress,  # type: ignore[arg-type]
    )
    binaries = Binaries()
    return Node(
        binaries=binaries,
        etcd=Etcd(context, cluster, binaries),
        apiserver=ApiServer(context, cluster, binaries),
        control=[
            ControllerManager(context, cluster, binaries),
            Scheduler(context, cluster, binaries),
        ],
        containerd=Containerd(context, cluster, binaries),
        registry=Registry(context, cluster, binaries),
        workers=[
            Kubelet(context, cluster, binaries),
            KubeProxy(context, cluster, binaries),
            CoreDns(context, cluster, binaries),
        ],
    )


def up(node: Node, cluster: ClusterSettings) -> dict[str, float]:
    """Starts what is not running; returns seconds per step."""
    timings: dict[str, float] = {}
    started = time.monotonic()
    if processes.running_pid(node.apiserver.pid_file) is None:
        write_pki(cluster)
    network.set_up(cluster)
    _make_cgroup(cluster)
    for group in ([node.etcd], [node.apiserver], [*node.control, node.containerd, node.registry]):
        stack.up(group)
    cluster.kubeconfig.write_text(configs.kubeconfig(cluster, "admin"))
    cluster.kubeconfig.chmod(0o600)
    _prepare_volumes(cluster)
    kubectl(cluster, "apply", "-f", "-", stdin=configs.cluster_manifests(cluster))
    timings["control plane"] = time.monotonic() - started
    stack.up(node.workers)
    kubectl(cluster, "wait", "--for=condition=Ready", f"node/{cluster.node_name}", "--timeout=120s")
    timings["node ready"] = time.monotonic() - started
    return timings


def down(node: Node, cluster: ClusterSettings) -> list[str]:
    """Stops the node and removes its footprint; returns what is left (nothing, normally)."""
    # The kubelet first, so that it restarts no container while they are being stopped.
    stack.down([node.kubelet])
    network.stop_containers(cluster, node.containerd.socket)
    stack.down(node.all)
    network.tear_down(cluster)
    return network.leftovers(cluster, node.containerd.socket)


def kubectl(
    cluster: ClusterSettings, *args: str, stdin: str | None = None, timeout: float = 600
) -> str:
    """kubectl on the node's administrator kubeconfig; its output, or a StackError naming
    the command and kubectl's own message."""
    result = subprocess.run(
        ["kubectl", "--kubeconfig", str(cluster.kubeconfig), *args],
        input=stdin, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise StackError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def _make_cgroup(cluster: ClusterSettings) -> None:
    """The cgroup the kubelet puts every pod under, in each hierarchy (it must exist)."""
    for hierarchy in network.CGROUP_ROOT.iterdir():
        if not (hierarchy / "cgroup.procs").exists() or hierarchy.is_symlink():
            continue
        folder = hierarchy / cluster.cgroup
        folder.mkdir(exist_ok=True)
        # A new cpuset cgroup starts with no CPUs and no memory nodes: give it its parent's.
        for setting in ("cpuset.cpus", "cpuset.mems"):
            if (folder / setting).exists() and not (folder / setting).read_text().strip():
                (folder / setting).write_text((hierarchy / setting).read_text())


def _prepare_volumes(cluster: ClusterSettings) -> None:
    # Pods run as non-root users of their own choosing: the folders must let any of them write.
    for number in range(configs.VOLUMES):
        folder = configs.volume_folder(cluster, number)
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o777)
