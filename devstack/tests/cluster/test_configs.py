import json
import tomllib
from pathlib import Path

from devstack.cluster import configs
from devstack.cluster.settings import ClusterSettings


def settings(tmp_path: Path) -> ClusterSettings:
    return ClusterSettings(state_dir=tmp_path / "cluster")


def test_containerd_keeps_every_file_and_namespace_in_the_state_folder(tmp_path: Path) -> None:
    cluster = settings(tmp_path)
    config = tomllib.loads(configs.containerd_config(cluster))
    cri = config["plugins"]["io.containerd.grpc.v1.cri"]
    for path in (config["root"], config["state"], config["grpc"]["address"],
                 cri["cni"]["conf_dir"]):  # fmt: skip
        assert Path(path).is_relative_to(cluster.state_dir), path
    assert cri["netns_mounts_under_state_dir"] is True
    assert cri["restrict_oom_score_adj"] is True
    runc = cri["containerd"]["runtimes"]["runc"]
    assert runc["options"]["SystemdCgroup"] is False
    assert cri["sandbox_image"] == configs.PAUSE_IMAGE


def test_pods_get_addresses_on_the_node_bridge_with_the_node_as_gateway(tmp_path: Path) -> None:
    cluster = settings(tmp_path)
    network = json.loads(configs.cni_config(cluster))
    bridge = network["plugins"][0]
    assert bridge["bridge"] == cluster.bridge
    (subnet,) = bridge["ipam"]["ranges"][0]
    assert subnet == {"subnet": "10.244.0.0/24", "gateway": "10.244.0.1"}
    assert Path(bridge["ipam"]["dataDir"]).is_relative_to(cluster.state_dir)


def test_the_kubelet_serves_no_anonymous_port_and_never_drops_an_image(tmp_path: Path) -> None:
    kubelet = json.loads(configs.kubelet_config(settings(tmp_path)))
    assert kubelet["readOnlyPort"] == 0
    assert kubelet["authentication"]["anonymous"]["enabled"] is False
    assert kubelet["authorization"]["mode"] == "Webhook"
    assert kubelet["imageGCHighThresholdPercent"] == 100
    assert kubelet["cgroupRoot"] == "/chat-k8s"
    assert kubelet["clusterDNS"] == ["10.244.0.1"]


def test_a_kubeconfig_names_the_node_and_the_identity_files(tmp_path: Path) -> None:
    cluster = settings(tmp_path)
    document = json.loads(configs.kubeconfig(cluster, "kubelet"))
    assert document["current-context"] == "chat-node"
    assert document["clusters"][0]["cluster"]["server"] == "https://10.244.0.1:6443"
    user = document["users"][0]["user"]
    assert user["client-certificate"] == str(cluster.pki_dir / "kubelet.crt")


def test_the_corefile_answers_on_the_node_address_from_the_cluster(tmp_path: Path) -> None:
    corefile = configs.corefile(settings(tmp_path))
    assert "bind 10.244.0.1" in corefile
    assert "kubernetes cluster.local in-addr.arpa" in corefile


def test_the_cluster_gets_a_default_storage_class_with_one_folder_per_volume(
    tmp_path: Path,
) -> None:
    cluster = settings(tmp_path)
    items = json.loads(configs.cluster_manifests(cluster))["items"]
    classes = [item for item in items if item["kind"] == "StorageClass"]
    assert classes[0]["metadata"]["annotations"] == {
        "storageclass.kubernetes.io/is-default-class": "true"
    }
    volumes = [item for item in items if item["kind"] == "PersistentVolume"]
    folders = {volume["spec"]["hostPath"]["path"] for volume in volumes}
    assert len(folders) == len(volumes) == configs.VOLUMES
    assert all(Path(folder).is_relative_to(cluster.state_dir) for folder in folders)
