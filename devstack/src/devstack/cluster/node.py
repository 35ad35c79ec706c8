"""The node's processes, each a devstack Component: a pid file, a log, a readiness check.

They start in the order each needs the one before: etcd; the API server; the controller
manager, the scheduler and containerd; then the kubelet, kube-proxy and CoreDNS, which need the
API server's objects. Every one of them listens on loopback or on the node's bridge address.
"""

import socket
import ssl
from pathlib import Path

import httpx

from devstack.cluster import configs
from devstack.cluster.binaries import Binaries
from devstack.cluster.settings import ClusterSettings
from devstack.components.base import Component, Context


class NodeProcess(Component):
    """A process of the node, run from the binary of its name, with its files in the
    cluster's state folder.

    Most answer a plain health URL on loopback (`health_scheme`, `port`, `health_path`) and
    read one configuration file of the state folder (`config_file`, from `config_text`). The
    subclasses below look alike because each only declares those values and its command line;
    what they do is written once, here."""

    port_number: int = 0
    health_scheme = "http"
    health_path = "/healthz"
    config_file = ""

    def __init__(self, context: Context, cluster: ClusterSettings, binaries: Binaries) -> None:
        super().__init__(context)
        self.cluster = cluster
        self.binaries = binaries

    @property
    def binary(self) -> Path:
        """Looked up when the process starts: stopping or checking the node builds nothing."""
        return self.binaries[self.name]

    @property
    def port(self) -> int:
        return self.port_number

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def pki(self) -> Path:
        return self.cluster.pki_dir

    @property
    def config_path(self) -> Path:
        return self.state_dir / self.config_file

    def config_text(self) -> str:
        raise NotImplementedError(f"{self.name} has no configuration file")

    def prepare(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if self.config_file:
            self.config_path.write_text(self.config_text())

    def check(self) -> None:
        self._get(f"{self.health_scheme}://127.0.0.1:{self.port}{self.health_path}")

    def kubeconfig(self, identity: str) -> Path:
        """Writes the kubeconfig of one of the pki's identities next to the node's state."""
        path = self.cluster.state_dir / f"{identity}.kubeconfig"
        path.write_text(configs.kubeconfig(self.cluster, identity))
        path.chmod(0o600)
        return path

    def _get(self, url: str, *, identity: str | None = None) -> None:
        """Raises unless `url` answers 200; over TLS as `identity` when one is given."""
        verify: ssl.SSLContext | bool = False
        if identity is not None:
            verify = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
            verify.load_cert_chain(self.pki / f"{identity}.crt", self.pki / f"{identity}.key")
        response = httpx.get(url, verify=verify, timeout=2.0)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:200]}")


class Etcd(NodeProcess):
    name = "etcd"
    health_path = "/health"

    @property
    def port(self) -> int:
        return self.cluster.etcd_port

    def argv(self) -> list[str]:
        client = f"http://127.0.0.1:{self.cluster.etcd_port}"
        peer = f"http://127.0.0.1:{self.cluster.etcd_peer_port}"
        return [
            str(self.binary), "--name", self.cluster.node_name,
            "--data-dir", str(self.state_dir / "data"),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"{self.cluster.node_name}={peer}",
            "--listen-metrics-urls", "",
        ]  # fmt: skip


class ApiServer(NodeProcess):
    name = "kube-apiserver"
    ready_timeout = 120.0

    @property
    def host(self) -> str:
        return str(self.cluster.node_address)

    @property
    def port(self) -> int:
        return self.cluster.apiserver_port

    def argv(self) -> list[str]:
        pki, node = self.pki, str(self.cluster.node_address)
        return [
            str(self.binary),
            "--etcd-servers", f"http://127.0.0.1:{self.cluster.etcd_port}",
            "--bind-address", node, "--advertise-address", node,
            "--secure-port", str(self.cluster.apiserver_port),
            "--tls-cert-file", str(pki / "apiserver.crt"),
            "--tls-private-key-file", str(pki / "apiserver.key"),
            "--client-ca-file", str(pki / "ca.crt"),
            "--kubelet-client-certificate", str(pki / "apiserver-kubelet-client.crt"),
            "--kubelet-client-key", str(pki / "apiserver-kubelet-client.key"),
            "--kubelet-certificate-authority", str(pki / "ca.crt"),
            "--kubelet-preferred-address-types", "InternalIP",
            "--service-account-issuer",
            f"https://kubernetes.default.svc.{self.cluster.cluster_domain}",
            "--service-account-key-file", str(pki / "service-account.pub"),
            "--service-account-signing-key-file", str(pki / "service-account.key"),
            "--service-cluster-ip-range", str(self.cluster.service_network),
            "--authorization-mode", "Node,RBAC",
            "--enable-admission-plugins", "NodeRestriction",
            # The aggregation layer, for metrics-server.
            "--requestheader-client-ca-file", str(pki / "front-proxy-ca.crt"),
            "--requestheader-allowed-names", "front-proxy-client",
            "--requestheader-username-headers", "X-Remote-User",
            "--requestheader-group-headers", "X-Remote-Group",
            "--requestheader-extra-headers-prefix", "X-Remote-Extra-",
            "--proxy-client-cert-file", str(pki / "front-proxy-client.crt"),
            "--proxy-client-key-file", str(pki / "front-proxy-client.key"),
            "--enable-aggregator-routing=true",
            "--profiling=false",
        ]  # fmt: skip

    def check(self) -> None:
        self._get(f"{self.cluster.apiserver_url}/readyz", identity="admin")


class ControlPlaneProcess(NodeProcess):
    """The controller manager and the scheduler: API server clients as `identity`, answering
    their health over TLS on loopback, one instance (no leader election)."""

    health_scheme = "https"
    identity: str

    def argv(self) -> list[str]:
        kubeconfig = str(self.kubeconfig(self.identity))
        return [
            str(self.binary),
            "--kubeconfig", kubeconfig,
            "--authentication-kubeconfig", kubeconfig,
            "--authorization-kubeconfig", kubeconfig,
            "--bind-address", "127.0.0.1", "--secure-port", str(self.port_number),
            "--leader-elect=false", "--profiling=false",
            *self.own_flags(),
        ]  # fmt: skip

    def own_flags(self) -> list[str]:
        return []


class ControllerManager(ControlPlaneProcess):
    name = "kube-controller-manager"
    identity = "controller-manager"
    port_number = 10257

    def own_flags(self) -> list[str]:
        pki = self.pki
        return [
            "--cluster-signing-cert-file", str(pki / "ca.crt"),
            "--cluster-signing-key-file", str(pki / "ca.key"),
            "--root-ca-file", str(pki / "ca.crt"),
            "--service-account-private-key-file", str(pki / "service-account.key"),
            "--use-service-account-credentials=true",
        ]  # fmt: skip


class Scheduler(ControlPlaneProcess):
    name = "kube-scheduler"
    identity = "scheduler"
    port_number = 10259


class Containerd(NodeProcess):
    name = "containerd"
    config_file = "config.toml"

    @property
    def socket(self) -> Path:
        return configs.paths(self.cluster)["containerd_socket"]

    def config_text(self) -> str:
        return configs.containerd_config(self.cluster)

    def prepare(self) -> None:
        super().prepare()
        # Beside its own file: the pods' network and the registry it pulls from over HTTP.
        where = configs.paths(self.cluster)
        for folder in ("cni_config", "cni_ipam", "registries"):
            where[folder].mkdir(parents=True, exist_ok=True)
        registry = where["registries"] / self.cluster.registry
        registry.mkdir(parents=True, exist_ok=True)
        (registry / "hosts.toml").write_text(configs.registry_hosts(self.cluster.registry))
        (where["cni_config"] / "10-chat-k8s.conflist").write_text(configs.cni_config(self.cluster))

    def argv(self) -> list[str]:
        return [str(self.binary), "--config", str(self.config_path)]

    def check(self) -> None:
        if not port_open_unix(self.socket):
            raise RuntimeError(f"{self.socket} does not accept connections yet")


class Registry(NodeProcess):
    name = "registry"
    health_path = "/v2/"
    config_file = "config.yml"

    @property
    def port(self) -> int:
        return self.cluster.registry_port

    def config_text(self) -> str:
        return configs.registry_config(self.cluster)

    def argv(self) -> list[str]:
        return [str(self.binary), "serve", str(self.config_path)]


class Kubelet(NodeProcess):
    name = "kubelet"
    port_number = 10248
    ready_timeout = 120.0
    config_file = "config.json"

    def config_text(self) -> str:
        configs.paths(self.cluster)["pod_logs"].mkdir(parents=True, exist_ok=True)
        return configs.kubelet_config(self.cluster)

    def argv(self) -> list[str]:
        return [
            str(self.binary),
            "--config", str(self.config_path),
            "--kubeconfig", str(self.kubeconfig("kubelet")),
            "--root-dir", str(self.state_dir / "root"),
            "--hostname-override", self.cluster.node_name,
            "--node-ip", str(self.cluster.node_address),
            "--v", "1",
        ]  # fmt: skip


class KubeProxy(NodeProcess):
    name = "kube-proxy"
    port_number = 10256
    config_file = "config.json"

    def config_text(self) -> str:
        self.kubeconfig("kube-proxy")
        return configs.kube_proxy_config(self.cluster)

    def argv(self) -> list[str]:
        return [str(self.binary), "--config", str(self.config_path)]


class CoreDns(NodeProcess):
    name = "coredns"
    port_number = 18181
    health_path = "/ready"
    config_file = "Corefile"

    def config_text(self) -> str:
        self.kubeconfig("coredns")
        return configs.corefile(self.cluster)

    def argv(self) -> list[str]:
        return [str(self.binary), "-conf", str(self.config_path)]


def port_open_unix(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as client:
        try:
            client.connect(str(path))
        except OSError:
            return False
    return True
