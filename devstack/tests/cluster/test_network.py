from pathlib import Path

from devstack.cluster import network
from devstack.cluster.settings import ClusterSettings

MOUNTINFO = """\
22 1 0:21 / / rw,relatime - overlay overlay rw
90 22 0:50 / /state/cluster/containerd/root/sandboxes/a/shm rw - tmpfs shm rw
91 22 0:4 net:[4026532] /state/cluster/netns/cni-1 rw - nsfs nsfs rw
92 90 0:51 / /state/cluster/containerd/root/sandboxes/a/shm/x rw - tmpfs t rw
93 22 0:52 / /state/cluster-other/x rw - tmpfs t rw
"""

IPTABLES_SAVE = """\
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:CHAT-K8S-FORWARD - [0:0]
:DOCKER - [0:0]
:KUBE-FORWARD - [0:0]
-A FORWARD -j CHAT-K8S-FORWARD
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -o docker0 -j DOCKER
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:DOCKER - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
COMMIT
"""


def test_mounts_under_the_state_folder_are_found_deepest_first() -> None:
    points = network.mounts_under(MOUNTINFO, Path("/state/cluster"))
    shm = "/state/cluster/containerd/root/sandboxes/a/shm"
    assert points == [Path(f"{shm}/x"), Path(shm), Path("/state/cluster/netns/cni-1")]


def test_only_the_nodes_and_kube_proxys_chains_are_counted() -> None:
    found = network.chains(IPTABLES_SAVE, network.CHAIN_PREFIXES)
    assert found == [
        ("filter", "CHAT-K8S-FORWARD"),
        ("filter", "KUBE-FORWARD"),
        ("nat", "KUBE-SERVICES"),
    ]


def test_removal_unhooks_the_chains_then_empties_and_deletes_them() -> None:
    commands = network.removal_commands(IPTABLES_SAVE, network.CHAIN_PREFIXES)
    assert commands == [
        ["-t", "filter", "-D", "FORWARD", "-j", "CHAT-K8S-FORWARD"],
        ["-t", "filter", "-D", "FORWARD", "-m", "comment", "--comment",
         "kubernetes forwarding rules", "-j", "KUBE-FORWARD"],
        ["-t", "nat", "-D", "PREROUTING", "-m", "comment", "--comment",
         "kubernetes service portals", "-j", "KUBE-SERVICES"],
        ["-t", "filter", "-F", "CHAT-K8S-FORWARD"],
        ["-t", "filter", "-F", "KUBE-FORWARD"],
        ["-t", "nat", "-F", "KUBE-SERVICES"],
        ["-t", "filter", "-X", "CHAT-K8S-FORWARD"],
        ["-t", "filter", "-X", "KUBE-FORWARD"],
        ["-t", "nat", "-X", "KUBE-SERVICES"],
    ]  # fmt: skip


def test_shims_of_another_containerd_are_left_alone() -> None:
    ours = Path("/state/cluster/containerd/containerd.sock")
    lines = {
        10: ["/usr/bin/containerd-shim-runc-v2", "-namespace", "k8s.io", "-address", str(ours)],
        11: ["/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-address",
             "/run/containerd/containerd.sock"],
        12: ["/usr/bin/containerd", "--config", "x"],
        13: [],
    }  # fmt: skip
    assert network.shim_pids(lines, ours) == [10]


def test_cgroup_folders_of_every_hierarchy_are_listed_deepest_first(tmp_path: Path) -> None:
    cluster = ClusterSettings(state_dir=tmp_path / "state")
    for hierarchy in ("memory", "pids"):
        (tmp_path / "cgroup" / hierarchy / "chat-k8s" / "kubepods" / "pod1").mkdir(parents=True)
    (tmp_path / "cgroup" / "cpu" / "other").mkdir(parents=True)
    folders = network.cgroup_folders(cluster, root=tmp_path / "cgroup")
    assert len(folders) == 6
    assert all("chat-k8s" in folder.parts for folder in folders)
    assert [len(folder.parts) for folder in folders] == sorted(
        (len(folder.parts) for folder in folders), reverse=True
    )


def test_log_links_into_the_state_folder_are_found_and_others_kept(tmp_path: Path) -> None:
    logs = tmp_path / "containers"
    logs.mkdir()
    (logs / "ours.log").symlink_to(tmp_path / "state" / "pod-logs" / "a.log")
    (logs / "theirs.log").symlink_to(tmp_path / "elsewhere" / "b.log")
    assert network.links_into(tmp_path / "state", logs) == [logs / "ours.log"]
