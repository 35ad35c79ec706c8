"""The configuration files of the node's processes, rendered from ClusterSettings alone.

Every path points into the state folder and every address is loopback or the node's bridge,
so that the node shares nothing with the machine but its kernel.
"""

import json
from pathlib import Path
from typing import Any

from devstack.cluster.settings import ClusterSettings

PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
CNI_NETWORK = "chat-k8s"
# Images cannot be pulled again on a machine without a registry: the kubelet never removes one.
NO_IMAGE_GC = {"imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99}
# Folders offered as PersistentVolumes (the dev overlay claims two).
VOLUMES = 6


def paths(settings: ClusterSettings) -> dict[str, Path]:
    state = settings.state_dir
    return {
        "containerd": state / "containerd",
        "containerd_socket": state / "containerd" / "containerd.sock",
        "cni_config": state / "cni" / "net.d",
        "cni_ipam": state / "cni" / "ipam",
        "kubelet": state / "kubelet",
        "pod_logs": state / "pod-logs",
        "volumes": state / "volumes",
        "registries": state / "containerd" / "certs.d",
    }


def kubeconfig(settings: ClusterSettings, identity: str) -> str:
    """A kubeconfig for one certificate of the pki folder; its context is the node's name."""
    pki = settings.pki_dir
    name = settings.node_name
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {
            "server": settings.apiserver_url, "certificate-authority": str(pki / "ca.crt"),
        }}],
        "users": [{"name": identity, "user": {
            "client-certificate": str(pki / f"{identity}.crt"),
            "client-key": str(pki / f"{identity}.key"),
        }}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": identity}}],
        "current-context": name,
    }  # fmt: skip
    return json.dumps(document, indent=2)


def containerd_config(settings: ClusterSettings) -> str:
    where = paths(settings)
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    lines = [
        "version = 2",
        f'root = "{where["containerd"] / "root"}"',
        f'state = "{where["containerd"] / "state"}"',
        "[grpc]",
        f'  address = "{where["containerd_socket"]}"',
        '[plugins."io.containerd.internal.v1.opt"]',
        f'  path = "{where["containerd"] / "opt"}"',
        f"[{cri}]",
        f'  sandbox_image = "{PAUSE_IMAGE}"',
        # Network namespaces under containerd's state folder, not the machine's /var/run/netns.
        "  netns_mounts_under_state_dir = true",
        # The kubelet asks for oom_score_adj below containerd's own (down to -998 for a pod's
        # sandbox); lowering it needs CAP_SYS_RESOURCE, which a machine that is itself a
        # container may not grant: runc's init then dies before the container starts.
        "  restrict_oom_score_adj = true",
        f"[{cri}.containerd]",
        '  snapshotter = "overlayfs"',
        '  default_runtime_name = "runc"',
        f"[{cri}.containerd.runtimes.runc]",
        '  runtime_type = "io.containerd.runc.v2"',
        # No systemd here: cgroups are managed as plain folders, like the kubelet's.
        f"[{cri}.containerd.runtimes.runc.options]",
        "  SystemdCgroup = false",
        f"[{cri}.cni]",
        '  bin_dir = "/usr/lib/cni"',
        f'  conf_dir = "{where["cni_config"]}"',
        f"[{cri}.registry]",
        f'  config_path = "{where["registries"]}"',
    ]
    return "\n".join(lines) + "\n"


def registry_hosts(registry: str) -> str:
    """containerd's hosts.toml for a plain-HTTP registry on loopback (Tilt pushes there)."""
    url = f"http://{registry}"
    return f'server = "{url}"\n\n[host."{url}"]\n  capabilities = ["pull", "resolve"]\n'


def registry_config(settings: ClusterSettings) -> str:
    """The registry's configuration (distribution's YAML, written as JSON): loopback only,
    images in the state folder."""
    document = {
        "version": 0.1,
        "log": {"level": "warn"},
        "storage": {
            "filesystem": {"rootdirectory": str(settings.state_dir / "registry" / "data")},
            "delete": {"enabled": True},
        },
        "http": {"addr": settings.registry},
    }
    return json.dumps(document, indent=2)


def cni_config(settings: ClusterSettings) -> str:
    where = paths(settings)
    bridge = {
        "type": "bridge",
        "bridge": settings.bridge,
        "isGateway": True,
        # Pods talk to each other, to Services and to the node; nothing of theirs leaves it.
        "ipMasq": False,
        "hairpinMode": True,
        "ipam": {
            "type": "host-local",
            "ranges": [
                [{"subnet": str(settings.pod_network), "gateway": str(settings.node_address)}]
            ],
            "routes": [{"dst": "0.0.0.0/0"}],
            "dataDir": str(where["cni_ipam"]),
        },
    }
    return json.dumps({"cniVersion": "1.0.0", "name": CNI_NETWORK, "plugins": [bridge]}, indent=2)


def kubelet_config(settings: ClusterSettings) -> str:
    pki = settings.pki_dir
    where = paths(settings)
    document: dict[str, Any] = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": str(settings.node_address),
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki / "ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        "tlsCertFile": str(pki / "kubelet.crt"),
        "tlsPrivateKeyFile": str(pki / "kubelet.key"),
        "clusterDomain": settings.cluster_domain,
        "clusterDNS": [str(settings.node_address)],
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": f"/{settings.cgroup}",
        "containerRuntimeEndpoint": f"unix://{where['containerd_socket']}",
        "podLogsDir": str(where["pod_logs"]),
        "volumePluginDir": str(where["kubelet"] / "volume-plugins"),
        "failSwapOn": False,
        "serializeImagePulls": False,
        # A development machine's disk is often fuller than a server's: evict only when it is
        # nearly full, never because of the images that cannot be pulled again.
        "evictionHard": {"memory.available": "200Mi", "nodefs.available": "2%",
                         "imagefs.available": "2%", "nodefs.inodesFree": "2%"},
        **NO_IMAGE_GC,
    }  # fmt: skip
    return json.dumps(document, indent=2)


def kube_proxy_config(settings: ClusterSettings) -> str:
    document = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(settings.state_dir / "kube-proxy.kubeconfig")},
        "hostnameOverride": settings.node_name,
        "mode": "iptables",
        "clusterCIDR": str(settings.pod_network),
        "healthzBindAddress": "127.0.0.1:10256",
        "metricsBindAddress": "127.0.0.1:10249",
        "nodePortAddresses": [f"{settings.node_address}/32"],
        # The machine's conntrack table is not the node's to resize.
        "conntrack": {"maxPerCore": 0, "min": 0},
    }
    return json.dumps(document, indent=2)


def corefile(settings: ClusterSettings) -> str:
    kubeconfig_path = settings.state_dir / "coredns.kubeconfig"
    return f"""\
.:53 {{
    bind {settings.node_address}
    errors
    health 127.0.0.1:18180
    ready 127.0.0.1:18181
    kubernetes {settings.cluster_domain} in-addr.arpa {{
        kubeconfig {kubeconfig_path} {settings.node_name}
        pods insecure
        fallthrough in-addr.arpa
    }}
    cache 30
}}
"""


def cluster_manifests(settings: ClusterSettings) -> str:
    """What the node adds to a new cluster: CoreDNS's read access, and a default StorageClass
    of folders in the state directory, pre-made so that every claim binds."""
    role = "system:coredns"
    documents: list[dict[str, Any]] = [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": role},
         "rules": [
             {"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"],
              "verbs": ["list", "watch"]},
             {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"],
              "verbs": ["list", "watch"]},
         ]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": role},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": role}]},
        {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
         "metadata": {"name": "node-folders",
                      "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
         "provisioner": "kubernetes.io/no-provisioner",
         "volumeBindingMode": "WaitForFirstConsumer"},
    ]  # fmt: skip
    documents += [_volume(settings, number) for number in range(VOLUMES)]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": documents}, indent=2)


def volume_folder(settings: ClusterSettings, number: int) -> Path:
    return paths(settings)["volumes"] / f"volume-{number}"


def _volume(settings: ClusterSettings, number: int) -> dict[str, Any]:
    folder = volume_folder(settings, number)
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": f"node-folder-{number}"},
        "spec": {
            "capacity": {"storage": "10Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "node-folders",
            "hostPath": {"path": str(folder), "type": "DirectoryOrCreate"},
        },
    }
