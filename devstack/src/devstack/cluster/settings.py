"""Where the one-node cluster lives and which addresses it uses; each value from `K8S_NODE_*`."""

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from devstack.settings import REPO_ROOT


def _default_tools_dir() -> Path:
    return Path.home() / ".cache" / "chat-devstack" / "tools"


class ClusterSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="K8S_NODE_")

    state_dir: Path = REPO_ROOT / ".devstack" / "cluster"
    tools_dir: Path = Field(default_factory=_default_tools_dir)
    kubernetes_version: str = "v1.32.4"
    node_name: str = "chat-node"
    # The node's private bridge: pods get addresses in pod_network, the host is its first
    # address, and the API server and CoreDNS listen there so that pods reach them.
    bridge: str = "chatk8s0"
    pod_network: IPv4Network = IPv4Network("10.244.0.0/24")
    service_network: IPv4Network = IPv4Network("10.96.0.0/16")
    cluster_domain: str = "cluster.local"
    etcd_port: int = 12379
    etcd_peer_port: int = 12380
    apiserver_port: int = 6443
    # An image registry on loopback: Tilt pushes what it builds there and containerd pulls it.
    registry_port: int = 5000
    # The cgroup every pod and container of the node lives under, so that `down` can find and
    # stop each process it started, containers included.
    cgroup: str = "chat-k8s"

    @property
    def node_address(self) -> IPv4Address:
        return next(self.pod_network.hosts())

    @property
    def kubernetes_service_address(self) -> IPv4Address:
        return next(self.service_network.hosts())

    @property
    def apiserver_url(self) -> str:
        return f"https://{self.node_address}:{self.apiserver_port}"

    @property
    def registry(self) -> str:
        return f"127.0.0.1:{self.registry_port}"

    @property
    def pki_dir(self) -> Path:
        return self.state_dir / "pki"

    @property
    def kubeconfig(self) -> Path:
        """The administrator's kubeconfig, for kubectl."""
        return self.state_dir / "kubeconfig"

    def binary(self, name: str) -> Path:
        return self.tools_dir / "bin" / f"{name}-{self.kubernetes_version}"
