"""k8s/overlays/prod, rendered: the services accept it in production mode, and its
autoscalers, disruption budgets, entry point and network policies do what they claim."""

import copy
import secrets
from pathlib import PurePosixPath
from typing import Any

import pytest
from deployment_manifests import (
    Container,
    by_command,
    chat_config,
    k8s_app_containers,
    pod_containers,
    readable_env,
    rendered_docs,
    settings_from,
    workloads,
)

from aggregated_consumer.settings import ConsumerSettings
from aggregator.settings import AggregatorSettings
from auth_service.settings import AuthSettings
from chat_service.settings import ChatSettings, Consistency

# Read by Google's client libraries rather than our settings: the consumer's Firestore client
# finds its service account through application default credentials.
READ_BY_GOOGLE_AUTH = {"GOOGLE_APPLICATION_CREDENTIALS"}


@pytest.fixture(scope="module")
def prod() -> list[dict[str, Any]]:
    return rendered_docs("k8s/overlays/prod")


@pytest.fixture(scope="module")
def prod_secrets() -> dict[str, str]:
    """`chat-secrets` as k8s/README.md tells an operator to create it."""
    return {
        "JWT_SECRET": secrets.token_hex(32),
        "DATABASE_URL": "postgresql+psycopg2://chat:pw@postgres.chat.example.net:5432/auth",
    }


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def secret_behind(docs: list[dict[str, Any]], where: str, path: str) -> str | None:
    """The Secret whose volume holds `path` in the container `where` names, if any."""
    kind, _, rest = where.removeprefix("k8s ").partition("/")
    name, _, container_name = rest.partition(" container ")
    workload = by_kind(docs, kind)[name]
    volumes = {v["name"]: v for v in workload["spec"]["template"]["spec"].get("volumes", [])}
    (container,) = [c for c in pod_containers(workload) if c["name"] == container_name]
    for mount in container.get("volumeMounts", []):
        if PurePosixPath(path).is_relative_to(mount["mountPath"]):
            secret = volumes[mount["name"]].get("secret")
            return secret["secretName"] if secret else None
    return None


def app_containers(docs: list[dict[str, Any]], prod_secrets: dict[str, str]) -> list[Container]:
    """Our service containers with their environment resolved. The overlay gives the images
    their registry path (registry.example.com/chat/chat-app:TAG); k8s_app_containers knows
    them by the local name, so the copy it reads has the registry path taken off."""
    local = copy.deepcopy(docs)
    for workload in workloads(local):
        for container in pod_containers(workload):
            container["image"] = container["image"].rsplit("/", 1)[-1]
    found = list(k8s_app_containers(local, prod_secrets))
    assert len(found) == 6, [c.where for c in found]  # 4 services, 2 migration steps
    return found


@pytest.fixture(scope="module")
def prod_containers(
    prod: list[dict[str, Any]], prod_secrets: dict[str, str]
) -> dict[tuple[str, str], Container]:
    return by_command(app_containers(prod, prod_secrets))


# --- settings -------------------------------------------------------------------------------


def test_every_variable_set_for_a_service_is_one_it_reads(
    prod: list[dict[str, Any]], prod_secrets: dict[str, str]
) -> None:
    for container in app_containers(prod, prod_secrets):
        unread = set(container.env) - readable_env(container.commands) - READ_BY_GOOGLE_AUTH
        assert not unread, f"{container.where}: no settings class reads {sorted(unread)}"


def test_nothing_points_at_an_emulator(prod: list[dict[str, Any]]) -> None:
    assert chat_config(prod)["APP_ENV"] == "production"
    assert not [key for key in chat_config(prod) if "EMULATOR" in key]
    for workload in workloads(prod):
        for container in pod_containers(workload):
            names = [item["name"] for item in container.get("env", [])]
            assert not [n for n in names if "EMULATOR" in n], container["name"]


def test_auth_runs_in_production_with_the_mounted_service_account(
    settings_env: Any,
    prod: list[dict[str, Any]],
    prod_containers: dict[tuple[str, str], Container],
) -> None:
    for command in (("auth-service", "serve"), ("auth-service", "migrate")):
        container = prod_containers[command]
        # AuthSettings refuses emulators and missing credentials in production.
        auth = settings_from(settings_env, container, AuthSettings)
        assert auth.app_env == "production"
        assert auth.firebase_auth_emulator_host is None
        assert "@postgres.chat.example.net:5432/" in auth.sqlalchemy_url
        key_file = str(auth.firebase_credentials_file)
        assert secret_behind(prod, container.where, key_file) == "firebase-service-account"
    serving = settings_from(settings_env, prod_containers["auth-service", "serve"], AuthSettings)
    assert serving.firebase_project == chat_config(prod)["GOOGLE_CLOUD_PROJECT"]


def test_the_consumer_writes_to_real_firestore_with_application_default_credentials(
    settings_env: Any,
    prod: list[dict[str, Any]],
    prod_containers: dict[tuple[str, str], Container],
) -> None:
    container = prod_containers["aggregated-consumer", "run"]
    consumer = settings_from(settings_env, container, ConsumerSettings)
    assert consumer.firestore_emulator_host is None
    assert consumer.firebase_project == chat_config(prod)["GOOGLE_CLOUD_PROJECT"]
    assert consumer.kafka_bootstrap_servers == chat_config(prod)["KAFKA_BOOTSTRAP_SERVERS"]
    key_file = container.env["GOOGLE_APPLICATION_CREDENTIALS"]
    assert secret_behind(prod, container.where, key_file) == "firebase-service-account"


def test_chat_uses_quorum_on_a_keyspace_with_three_replicas(
    settings_env: Any, prod_containers: dict[tuple[str, str], Container]
) -> None:
    chat = settings_from(settings_env, prod_containers["chat-service", "serve"], ChatSettings)
    assert chat.read_consistency == chat.write_consistency == Consistency.LOCAL_QUORUM
    assert len(chat.cassandra_contact[0]) == 3
    migrate = settings_from(settings_env, prod_containers["chat-service", "migrate"], ChatSettings)
    replication = migrate.replication
    assert replication["class"] == "NetworkTopologyStrategy"
    assert [int(v) for k, v in replication.items() if k != "class"] == [3]


def test_the_aggregator_uses_the_managed_kafka(
    settings_env: Any, prod_containers: dict[tuple[str, str], Container]
) -> None:
    container = prod_containers["aggregator", "run"]
    aggregator = settings_from(settings_env, container, AggregatorSettings)
    assert aggregator.kafka_bootstrap_servers.count(":9092") == 3
    assert aggregator.transactional_id == "aggregator-0"


# --- sizing, scaling, disruptions -----------------------------------------------------------


def test_every_container_has_cpu_and_memory_requests_and_limits(
    prod: list[dict[str, Any]],
) -> None:
    for workload in workloads(prod):
        for container in pod_containers(workload):
            resources = container["resources"]
            for part in ("requests", "limits"):
                assert set(resources[part]) == {"cpu", "memory"}, (container["name"], part)


def test_auth_and_chat_scale_on_cpu_from_two_replicas(prod: list[dict[str, Any]]) -> None:
    autoscalers = by_kind(prod, "HorizontalPodAutoscaler")
    deployments = by_kind(prod, "Deployment")
    assert set(autoscalers) == {"auth", "chat"}
    for name, hpa in autoscalers.items():
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
        # The autoscaler owns the count; a count in the Deployment would reset it on apply.
        assert "replicas" not in deployments[name]["spec"]


def replicas(prod: list[dict[str, Any]], workload: dict[str, Any]) -> int:
    hpa = by_kind(prod, "HorizontalPodAutoscaler").get(workload["metadata"]["name"])
    return int(hpa["spec"]["minReplicas"] if hpa else workload["spec"].get("replicas", 1))


def test_every_replicated_workload_has_a_budget_that_still_lets_nodes_drain(
    prod: list[dict[str, Any]],
) -> None:
    long_running = [w for w in workloads(prod) if w["kind"] != "Job"]
    covered = set()
    for budget in by_kind(prod, "PodDisruptionBudget").values():
        selector = budget["spec"]["selector"]["matchLabels"]
        (workload,) = [
            w
            for w in long_running
            if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
        ]
        count = replicas(prod, workload)
        allowed = budget["spec"].get(
            "maxUnavailable", count - budget["spec"].get("minAvailable", 0)
        )
        assert 1 <= allowed < count, budget["metadata"]["name"]
        covered.add(workload["metadata"]["name"])
    assert covered == {w["metadata"]["name"] for w in long_running if replicas(prod, w) >= 2}
    assert "redis" not in covered  # one pod: a budget would block every drain


# --- the way in -----------------------------------------------------------------------------


def test_the_ingress_routes_the_apis_to_their_services_and_the_rest_to_the_ui(
    prod: list[dict[str, Any]],
) -> None:
    (ingress,) = by_kind(prod, "Ingress").values()
    services = by_kind(prod, "Service")
    (rule,) = ingress["spec"]["rules"]
    routes = {}
    for path in rule["http"]["paths"]:
        assert path["pathType"] == "Prefix"
        backend = path["backend"]["service"]
        ports = {p["port"] for p in services[backend["name"]]["spec"]["ports"]}
        assert backend["port"]["number"] in ports, path["path"]
        routes[path["path"]] = (backend["name"], backend["port"]["number"])
    assert routes == {"/auth": ("auth", 8000), "/chat": ("chat", 9000), "/": ("ui", 3000)}
    assert ingress["spec"]["tls"][0]["hosts"] == [rule["host"]]


def test_the_namespace_enforces_the_restricted_pod_security_standard(
    prod: list[dict[str, Any]],
) -> None:
    (namespace,) = by_kind(prod, "Namespace").values()
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    # ...which every pod meets (the API server would refuse the pods otherwise).
    for workload in workloads(prod):
        pod = workload["spec"]["template"]["spec"]
        for container in pod_containers(workload):
            context = {**pod["securityContext"], **container.get("securityContext", {})}
            assert context["runAsNonRoot"] is True, container["name"]
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, container["name"]
            assert context["allowPrivilegeEscalation"] is False, container["name"]
            assert context["capabilities"] == {"drop": ["ALL"]}, container["name"]


# --- network policies -----------------------------------------------------------------------

ENTRY = "ingress-controller"
DNS = "cluster-dns"
# Outside the cluster, named by the port they listen on.
EXTERNAL = {5432: "postgres", 9092: "kafka", 9042: "cassandra", 443: "google-apis"}
PEER_NAMESPACES = {("ingress-nginx", "ingress-nginx"): ENTRY, ("kube-system", "kube-dns"): DNS}

EXPECTED_FLOWS = {
    (ENTRY, "ui", 3000),
    (ENTRY, "auth", 8000),
    (ENTRY, "chat", 9000),
    ("ui", "auth", 8000),
    ("ui", "chat", 9000),
    ("chat", "auth", 8000),
    ("chat", "redis", 6379),
    ("chat", "kafka", 9092),
    ("chat", "cassandra", 9042),
    ("auth", "postgres", 5432),
    ("auth", "redis", 6379),
    ("auth", "google-apis", 443),
    ("aggregator", "kafka", 9092),
    ("aggregated-consumer", "kafka", 9092),
    ("aggregated-consumer", "google-apis", 443),
    ("migrate", "postgres", 5432),
    ("migrate", "cassandra", 9042),
    ("migrate", "kafka", 9092),
}


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, "only matchLabels is evaluated here"
    return selector.get("matchLabels", {}).items() <= labels.items()


class Policies:
    """Which (peer, port/protocol) pairs the rendered policies allow to and from each pod."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.pods = {
            w["metadata"]["name"]: w["spec"]["template"]["metadata"]["labels"]
            for w in workloads(docs)
        }
        self.policies = list(by_kind(docs, "NetworkPolicy").values())
        self.blocks: dict[int, set[str]] = {}  # external port -> address ranges used for it

    def peers(self, peer: dict[str, Any], port: int) -> set[str]:
        if "ipBlock" in peer:
            self.blocks.setdefault(port, set()).add(str(peer["ipBlock"]))
            return {EXTERNAL[port]}
        if "namespaceSelector" in peer:
            namespace = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            labels = peer["podSelector"]["matchLabels"]
            name = labels.get("app.kubernetes.io/name") or labels.get("k8s-app")
            return {PEER_NAMESPACES[namespace, name]}
        return {name for name, labels in self.pods.items() if matches(peer["podSelector"], labels)}

    def allowed(self, pod: str, direction: str) -> set[tuple[str, int, str]]:
        """(peer, port, protocol) for traffic leaving (egress) or reaching (ingress) `pod`."""
        found = set()
        side = "to" if direction == "Egress" else "from"
        for policy in self.policies:
            if not matches(policy["spec"]["podSelector"], self.pods[pod]):
                continue
            for rule in policy["spec"].get(direction.lower(), []):
                for port in rule["ports"]:
                    for peer in rule[side]:
                        for name in self.peers(peer, port["port"]):
                            found.add((name, port["port"], port["protocol"]))
        return found


def test_every_pod_starts_from_deny_all_in_both_directions(prod: list[dict[str, Any]]) -> None:
    deny = by_kind(prod, "NetworkPolicy")["default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_the_network_policies_allow_exactly_the_architectures_flows(
    prod: list[dict[str, Any]],
) -> None:
    policies = Policies(prod)
    pods = set(policies.pods)
    egress = {pod: policies.allowed(pod, "Egress") for pod in pods}
    ingress = {pod: policies.allowed(pod, "Ingress") for pod in pods}
    flows = set()
    for src, allowed in egress.items():
        for dst, port, protocol in allowed:
            if dst == DNS:
                assert port == 53, src
                continue
            assert protocol == "TCP", (src, dst)
            if dst in pods:
                # Both ends must allow a flow inside the namespace; a one-sided rule is dead.
                assert (src, port, protocol) in ingress[dst], f"{src} -> {dst}:{port}"
            flows.add((src, dst, port))
    for dst, allowed in ingress.items():
        for src, port, protocol in allowed:
            assert src == ENTRY or (dst, port, protocol) in egress[src], f"{src} -> {dst}:{port}"
            flows.add((src, dst, port))
    assert flows == EXPECTED_FLOWS
    for pod, allowed in egress.items():
        assert {(DNS, 53, "UDP"), (DNS, 53, "TCP")} <= allowed, pod


def test_each_managed_server_is_one_address_range_and_google_is_public_only(
    prod: list[dict[str, Any]],
) -> None:
    policies = Policies(prod)
    for pod in policies.pods:
        policies.allowed(pod, "Egress")
    for port, blocks in policies.blocks.items():
        assert len(blocks) == 1, f"port {port}: {blocks}"  # one range per server, everywhere
    (google,) = policies.blocks[443]
    assert "'cidr': '0.0.0.0/0'" in google
    for private in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"):
        assert private in google
