"""k8s/: the kustomize base and dev overlay, rendered offline by `kubectl kustomize`."""

import re
from collections.abc import Iterator
from typing import Any

from deployment_manifests import REPO, config_maps, dev_secret_keys, pod_containers, workloads

from chat_events import CHAT_MESSAGES, CHAT_MESSAGES_DEAD_LETTER, CHAT_MESSAGES_GROUPED

SERVICES = {"auth", "chat", "aggregator", "aggregated-consumer"}
INFRASTRUCTURE = {"postgres", "kafka", "cassandra", "redis", "firestore", "firebase-auth"}


def named(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def env_refs(docs: list[dict[str, Any]], ref: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for workload in workloads(docs):
        for container in pod_containers(workload):
            for item in container.get("env", []):
                source = item.get("valueFrom", {}).get(ref)
                if source:
                    yield f"{workload['metadata']['name']}/{container['name']}", source


def test_the_base_holds_the_services_and_the_overlay_adds_infrastructure(
    base_docs: list[dict[str, Any]], dev_docs: list[dict[str, Any]]
) -> None:
    base = {w["metadata"]["name"] for w in workloads(base_docs)}
    dev = {w["metadata"]["name"] for w in workloads(dev_docs)}
    assert base == SERVICES | {"migrate"}
    assert dev == SERVICES | {"migrate"} | INFRASTRUCTURE
    for name in ("postgres", "kafka", "cassandra"):
        assert named(dev_docs, "StatefulSet", name)["spec"]["volumeClaimTemplates"]
    assert all(
        d["metadata"].get("namespace") == "chat" for d in dev_docs if d["kind"] != "Namespace"
    )


def test_the_aggregator_is_a_statefulset_whose_pod_name_is_its_transactional_id(
    base_docs: list[dict[str, Any]],
) -> None:
    aggregator = named(base_docs, "StatefulSet", "aggregator")
    (container,) = pod_containers(aggregator)
    env = {item["name"]: item for item in container["env"]}
    assert env["AGGREGATOR_TRANSACTIONAL_ID"]["valueFrom"] == {
        "fieldRef": {"fieldPath": "metadata.name"}
    }
    assert "AGGREGATOR_GROUP_ID" not in env  # every replica in the one default group
    assert aggregator["spec"]["replicas"] >= 2
    assert named(base_docs, "Service", "aggregator")["spec"]["clusterIP"] == "None"


def test_services_select_pods_and_target_ports_that_exist(dev_docs: list[dict[str, Any]]) -> None:
    pods = {w["metadata"]["name"]: w["spec"]["template"] for w in workloads(dev_docs)}
    services = [d for d in dev_docs if d["kind"] == "Service"]
    assert {s["metadata"]["name"] for s in services} == SERVICES | INFRASTRUCTURE
    for service in services:
        selector = service["spec"]["selector"]
        matches = [t for t in pods.values() if selector.items() <= t["metadata"]["labels"].items()]
        assert len(matches) == 1, service["metadata"]["name"]
        port_names = {
            p["name"] for c in matches[0]["spec"]["containers"] for p in c.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names, service["metadata"]["name"]


def test_references_point_at_keys_that_exist(dev_docs: list[dict[str, Any]]) -> None:
    maps = config_maps(dev_docs)
    for where, ref in env_refs(dev_docs, "configMapKeyRef"):
        assert ref["key"] in maps[ref["name"]], f"{where}: {ref}"
    for where, ref in env_refs(dev_docs, "secretKeyRef"):
        assert ref["name"] == "chat-secrets", where
        assert ref["key"] in dev_secret_keys(), (
            f"{where}: k8s/dev-secret.sh never creates {ref['key']}"
        )


def test_no_secret_value_is_in_the_manifests(
    base_docs: list[dict[str, Any]], dev_docs: list[dict[str, Any]]
) -> None:
    for docs in (base_docs, dev_docs):
        assert not [d for d in docs if d["kind"] == "Secret"]
        for workload in workloads(docs):
            for container in pod_containers(workload):
                for item in container.get("env", []):
                    if re.search(r"SECRET|PASSWORD|PRIVATE_KEY|DATABASE_URL", item["name"]):
                        assert "secretKeyRef" in item.get("valueFrom", {}), item["name"]


def test_every_pod_is_sized_and_has_no_service_links(dev_docs: list[dict[str, Any]]) -> None:
    for workload in workloads(dev_docs):
        spec = workload["spec"]["template"]["spec"]
        # Service links inject KAFKA_PORT, AUTH_PORT, CHAT_SERVICE_HOST...: noise for our
        # prefixed settings, and actual broker properties for the Kafka image.
        assert spec.get("enableServiceLinks") is False, workload["metadata"]["name"]
        for container in pod_containers(workload):
            resources = container.get("resources", {})
            assert resources.get("requests", {}).get("memory"), container["name"]
            assert resources.get("limits", {}).get("memory"), container["name"]


def test_our_containers_run_as_non_root_on_a_read_only_filesystem(
    dev_docs: list[dict[str, Any]],
) -> None:
    seen = 0
    for workload in workloads(dev_docs):
        spec = workload["spec"]["template"]["spec"]
        for container in pod_containers(workload):
            if not container["image"].startswith("chat-app:"):
                continue
            seen += 1
            context = {**spec.get("securityContext", {}), **container.get("securityContext", {})}
            assert context["runAsNonRoot"] is True, container["name"]
            assert context["runAsUser"] == 10001, container["name"]
            assert context["readOnlyRootFilesystem"] is True, container["name"]
            assert context["allowPrivilegeEscalation"] is False, container["name"]
            # The only writable place: an emptyDir over /tmp.
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]  # noqa: S108
    assert seen == 6


def test_redis_keeps_nothing_on_disk_and_runs_as_its_own_non_root_user(
    dev_docs: list[dict[str, Any]],
) -> None:
    redis = named(dev_docs, "Deployment", "redis")
    spec = redis["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    args = container["args"]
    assert args[args.index("--save") + 1] == ""
    assert args[args.index("--appendonly") + 1] == "no"
    assert all("emptyDir" in volume for volume in spec["volumes"])
    assert redis["spec"]["strategy"]["type"] == "Recreate"  # never two sets of counters
    context = {**spec["securityContext"], **container["securityContext"]}
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] != 0
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert container["readinessProbe"]["exec"]["command"] == ["redis-cli", "ping"]


def test_auth_and_chat_share_the_configured_redis_for_their_limits(
    base_docs: list[dict[str, Any]],
) -> None:
    maps = config_maps(base_docs)
    (config,) = [values for name, values in maps.items() if name.startswith("chat-config")]
    assert config["REDIS_URL"] == "redis://redis:6379/0"
    wanted = {"auth": "AUTH_RATE_LIMIT_STORAGE_URI", "chat": "CHAT_RATE_LIMIT_STORAGE"}
    for name, variable in wanted.items():
        (container,) = pod_containers(named(base_docs, "Deployment", name))
        env = {item["name"]: item for item in container["env"]}
        assert env[variable]["valueFrom"]["configMapKeyRef"]["key"] == "REDIS_URL", name


def test_auth_and_chat_trust_the_configured_proxies(base_docs: list[dict[str, Any]]) -> None:
    maps = config_maps(base_docs)
    (config,) = [values for name, values in maps.items() if name.startswith("chat-config")]
    assert config["TRUSTED_PROXIES"] == "10.0.0.0/8"
    for name in ("auth", "chat"):
        (container,) = pod_containers(named(base_docs, "Deployment", name))
        env = {item["name"]: item for item in container["env"]}
        reference = env[f"{name.upper()}_TRUSTED_PROXIES"]["valueFrom"]["configMapKeyRef"]
        assert reference["key"] == "TRUSTED_PROXIES", name


def test_the_migration_job_creates_the_chat_events_topics(dev_docs: list[dict[str, Any]]) -> None:
    job = named(dev_docs, "Job", "migrate")
    (topics,) = [
        c for c in job["spec"]["template"]["spec"]["initContainers"] if c["name"] == "kafka-topics"
    ]
    (names,) = re.findall(r"for topic in ([^;]+);", topics["args"][0])
    assert set(names.split()) == {CHAT_MESSAGES, CHAT_MESSAGES_GROUPED, CHAT_MESSAGES_DEAD_LETTER}
    kafka_env = {
        e["name"]: e.get("value")
        for e in pod_containers(named(dev_docs, "StatefulSet", "kafka"))[0]["env"]
    }
    assert kafka_env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_the_firestore_emulator_mounts_the_repository_rules(dev_docs: list[dict[str, Any]]) -> None:
    rules = [
        d
        for d in dev_docs
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("firestore-rules-")
    ]
    assert rules[0]["data"]["firestore.rules"] == (REPO / "firestore.rules").read_text()
    emulator = named(dev_docs, "Deployment", "firestore")["spec"]["template"]["spec"]
    assert emulator["volumes"][0]["configMap"]["name"] == rules[0]["metadata"]["name"]
    assert "--rules=/rules/firestore.rules" in emulator["containers"][0]["command"]


def test_compose_and_kubernetes_pin_the_same_images(
    dev_docs: list[dict[str, Any]], compose: dict[str, Any]
) -> None:
    in_compose = {s.get("image") for s in compose["services"].values()}
    in_cluster = {c["image"] for w in workloads(dev_docs) for c in pod_containers(w)}
    assert in_cluster == in_compose


def test_cassandra_runs_paxos_v2_and_batch_sync_in_compose_kubernetes_and_devstack(
    dev_docs: list[dict[str, Any]], compose: dict[str, Any]
) -> None:
    # Paxos v2 halves the round trips of the chat service's idempotency claim; batch commit
    # log sync keeps acknowledged writes through a crash of the single node. The image reads
    # -Dcassandra.settings.* only when allowed to. Three places start Cassandra: one setting.
    wanted = (
        "-Dcassandra.config.allow_system_properties=true -Dcassandra.settings.paxos_variant=v2 "
        "-Dcassandra.settings.commitlog_sync=batch -Dcassandra.settings.commitlog_sync_period=0ms"
    )
    assert compose["services"]["cassandra"]["environment"]["JVM_EXTRA_OPTS"] == wanted
    (container,) = pod_containers(named(dev_docs, "StatefulSet", "cassandra"))
    assert {"name": "JVM_EXTRA_OPTS", "value": wanted} in container["env"]
    devstack = (REPO / "devstack/src/devstack/components/cassandra.py").read_text()
    assert "\npaxos_variant: v2\n" in devstack
    assert "\ncommitlog_sync: batch\n" in devstack
    assert "commitlog_sync_period" not in devstack
