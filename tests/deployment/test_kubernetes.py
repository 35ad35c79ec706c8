"""k8s/: the base and every overlay, rendered offline by kustomize and validated against the
Kubernetes schema; then what the schema cannot know (references, probes, users, images).
Production-only checks (settings, autoscaling, network policies) are in test_kubernetes_prod."""

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from deployment_manifests import (
    REPO,
    chat_config,
    config_maps,
    dev_secret_keys,
    pod_containers,
    rendered_docs,
    rendered_overlay,
    schema_problems,
    workloads,
)

from chat_events import CHAT_MESSAGES, CHAT_MESSAGES_DEAD_LETTER, CHAT_MESSAGES_GROUPED

OVERLAYS = ("k8s/overlays/dev", "k8s/overlays/prod")
SERVICES = {"auth", "chat", "aggregator", "aggregated-consumer", "ui"}
DEV_INFRASTRUCTURE = {"postgres", "kafka", "cassandra", "redis", "firestore", "firebase-auth"}
# Our images: the Python services' and the UI's (both run as uid 10001).
OUR_IMAGES = ("chat-app", "chat-ui", "registry.example.com/chat/")
# Keys a container may read from `chat-secrets` in production (k8s/README.md, "Production").
PROD_SECRET_KEYS = {"JWT_SECRET", "DATABASE_URL"}


@pytest.fixture(scope="module")
def base() -> list[dict[str, Any]]:
    return rendered_docs("k8s/base")


@pytest.fixture(scope="module")
def dev() -> list[dict[str, Any]]:
    return rendered_docs("k8s/overlays/dev")


@pytest.fixture(scope="module")
def prod() -> list[dict[str, Any]]:
    return rendered_docs("k8s/overlays/prod")


@pytest.fixture(scope="module", params=OVERLAYS, ids=lambda path: path.rsplit("/", 1)[1])
def overlay(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return rendered_docs(request.param)


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


def is_ours(container: dict[str, Any]) -> bool:
    return str(container["image"]).startswith(OUR_IMAGES)


# --- the schema -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["k8s/base", *OVERLAYS])
def test_the_rendered_objects_pass_strict_schema_validation(path: str) -> None:
    rendered_docs(path)  # skips without a renderer
    assert schema_problems(rendered_overlay(path)) == []


def test_the_schema_check_rejects_a_field_kubernetes_does_not_have() -> None:
    docs = rendered_docs("k8s/overlays/dev")
    broken = copy.deepcopy(named(docs, "Deployment", "auth"))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/"
    (problem,) = schema_problems(yaml.safe_dump(broken))
    assert "paht" in problem


def test_the_schema_check_rejects_a_kind_it_has_no_schema_for() -> None:
    # kubernetes-validate only warns about a kind it does not know (a CRD such as a Gateway
    # API HTTPRoute) and exits 0: such an object would pass without being checked.
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "chat"},
        "spec": {"rules": []},
    }
    (problem,) = schema_problems(yaml.safe_dump(route))
    assert "HTTPRoute" in problem


# --- what every environment has -------------------------------------------------------------


def test_the_base_holds_the_services_and_each_overlay_its_infrastructure(
    base: list[dict[str, Any]], dev: list[dict[str, Any]], prod: list[dict[str, Any]]
) -> None:
    def names(docs: list[dict[str, Any]]) -> set[str]:
        return {w["metadata"]["name"] for w in workloads(docs)}

    assert names(base) == SERVICES | {"migrate"}
    assert names(dev) == SERVICES | {"migrate"} | DEV_INFRASTRUCTURE
    # Production runs Kafka, Cassandra, Postgres and Firebase outside the cluster.
    assert names(prod) == SERVICES | {"migrate", "redis"}
    for name in ("postgres", "kafka", "cassandra"):
        assert named(dev, "StatefulSet", name)["spec"]["volumeClaimTemplates"]
    for docs in (dev, prod):
        assert all(
            d["metadata"].get("namespace") == "chat" for d in docs if d["kind"] != "Namespace"
        )


def test_services_select_pods_and_target_ports_that_exist(
    overlay: list[dict[str, Any]],
) -> None:
    pods = {w["metadata"]["name"]: w["spec"]["template"] for w in workloads(overlay)}
    services = [d for d in overlay if d["kind"] == "Service"]
    assert {s["metadata"]["name"] for s in services} == set(pods) - {"migrate"}
    for service in services:
        selector = service["spec"]["selector"]
        matches = [t for t in pods.values() if selector.items() <= t["metadata"]["labels"].items()]
        assert len(matches) == 1, service["metadata"]["name"]
        port_names = {
            p["name"] for c in matches[0]["spec"]["containers"] for p in c.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names, service["metadata"]["name"]


def test_config_references_point_at_keys_that_exist(overlay: list[dict[str, Any]]) -> None:
    maps = config_maps(overlay)
    for where, ref in env_refs(overlay, "configMapKeyRef"):
        assert ref["key"] in maps[ref["name"]], f"{where}: {ref}"


def test_dev_secret_references_are_keys_the_dev_script_creates(
    dev: list[dict[str, Any]], prod: list[dict[str, Any]]
) -> None:
    for where, ref in env_refs(dev, "secretKeyRef"):
        assert ref["name"] == "chat-secrets", where
        assert ref["key"] in dev_secret_keys(), f"{where}: dev-secret.sh never creates it"
    for where, ref in env_refs(prod, "secretKeyRef"):
        assert ref["name"] == "chat-secrets", where
        assert ref["key"] in PROD_SECRET_KEYS, f"{where}: not a documented production key"


def test_no_secret_value_is_in_the_manifests(
    base: list[dict[str, Any]], overlay: list[dict[str, Any]]
) -> None:
    for docs in (base, overlay):
        assert not [d for d in docs if d["kind"] == "Secret"]
        for workload in workloads(docs):
            for container in pod_containers(workload):
                for item in container.get("env", []):
                    if re.search(r"SECRET|PASSWORD|PRIVATE_KEY|DATABASE_URL", item["name"]):
                        assert "secretKeyRef" in item.get("valueFrom", {}), item["name"]


def test_every_pod_is_sized_and_has_no_service_links(overlay: list[dict[str, Any]]) -> None:
    for workload in workloads(overlay):
        spec = workload["spec"]["template"]["spec"]
        # Service links inject KAFKA_PORT, AUTH_PORT, CHAT_SERVICE_HOST...: noise for our
        # prefixed settings, and actual broker properties for the Kafka image.
        assert spec.get("enableServiceLinks") is False, workload["metadata"]["name"]
        assert spec.get("automountServiceAccountToken") is False, workload["metadata"]["name"]
        for container in pod_containers(workload):
            resources = container.get("resources", {})
            assert resources.get("requests", {}).get("memory"), container["name"]
            assert resources.get("limits", {}).get("memory"), container["name"]


def security_context(workload: dict[str, Any], container: dict[str, Any]) -> dict[str, Any]:
    spec = workload["spec"]["template"]["spec"]
    return {**spec.get("securityContext", {}), **container.get("securityContext", {})}


@pytest.mark.parametrize("which", ["base", "dev", "prod"])
def test_our_containers_run_as_uid_10001_without_privileges(
    which: str, request: pytest.FixtureRequest
) -> None:
    docs = request.getfixturevalue(which)
    seen = []
    for workload in workloads(docs):
        for container in pod_containers(workload):
            if not is_ours(container):
                continue
            seen.append(container["name"])
            context = security_context(workload, container)
            assert context["runAsNonRoot"] is True, container["name"]
            assert context["runAsUser"] == 10001, container["name"]
            assert context["allowPrivilegeEscalation"] is False, container["name"]
            assert context["capabilities"] == {"drop": ["ALL"]}, container["name"]
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, container["name"]
            # Writable only where an emptyDir lies over /tmp, except the dev UI (below).
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]  # noqa: S108
            dev_ui = which == "dev" and container["name"] == "ui"
            assert context["readOnlyRootFilesystem"] is (not dev_ui), container["name"]
    assert len(seen) == 7  # 4 services, the UI, 2 migration steps


def test_the_dev_ui_is_writable_for_next_dev_and_tilts_live_update(
    dev: list[dict[str, Any]],
) -> None:
    ui = named(dev, "Deployment", "ui")
    (container,) = pod_containers(ui)
    assert container["securityContext"]["readOnlyRootFilesystem"] is False
    # The rest of the base's hardening stays.
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def ui_env(docs: list[dict[str, Any]]) -> dict[str, str]:
    (container,) = pod_containers(named(docs, "Deployment", "ui"))
    maps = config_maps(docs)
    env = {}
    for item in container["env"]:
        ref = item.get("valueFrom", {}).get("configMapKeyRef")
        env[item["name"]] = maps[ref["name"]][ref["key"]] if ref else item["value"]
    return env


def test_the_ui_gets_only_variables_it_reads(overlay: list[dict[str, Any]]) -> None:
    sources = "".join(p.read_text() for p in (REPO / "frontend" / "lib").glob("*.ts"))
    read_by_the_ui = set(re.findall(r'"(UI_[A-Z_]+)"', sources))
    # Read by Next's own server: the port, the address to bind, telemetry off.
    read_by_next = {"PORT", "HOSTNAME", "NEXT_TELEMETRY_DISABLED"}
    assert set(ui_env(overlay)) <= read_by_the_ui | read_by_next


def test_the_ui_proxies_to_the_services_and_listens_where_probed(
    overlay: list[dict[str, Any]],
) -> None:
    env = ui_env(overlay)
    ports = {
        s["metadata"]["name"]: s["spec"]["ports"][0]["port"]
        for s in overlay
        if s["kind"] == "Service"
    }
    assert env["UI_AUTH_SERVICE_URL"] == f"http://auth:{ports['auth']}"
    assert env["UI_CHAT_SERVICE_URL"] == f"http://chat:{ports['chat']}"
    (container,) = pod_containers(named(overlay, "Deployment", "ui"))
    assert container["ports"] == [{"name": "http", "containerPort": int(env["PORT"])}]
    assert env["HOSTNAME"] == "0.0.0.0"  # every interface: probes and the ingress reach it
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/ui-config", "port": "http"}


def test_the_dev_ui_sends_the_browser_to_the_forwarded_emulators(
    dev: list[dict[str, Any]], prod: list[dict[str, Any]]
) -> None:
    env = ui_env(dev)
    assert env["UI_FIRESTORE_EMULATOR_HOST"] == "127.0.0.1:8080"
    assert env["UI_FIREBASE_AUTH_EMULATOR_HOST"] == "127.0.0.1:9099"
    assert env["UI_FIREBASE_PROJECT_ID"] == "demo-chat"
    assert not [name for name in ui_env(prod) if "EMULATOR" in name]


@pytest.mark.parametrize("which", ["dev", "prod"])
def test_redis_keeps_claims_in_an_append_only_file_and_runs_as_its_own_non_root_user(
    which: str, request: pytest.FixtureRequest
) -> None:
    redis = named(request.getfixturevalue(which), "Deployment", "redis")
    spec = redis["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    args = container["args"]
    assert args[args.index("--save") + 1] == ""
    assert args[args.index("--appendonly") + 1] == "yes"
    assert args[args.index("--maxmemory-policy") + 1] == "noeviction"
    # The file outlives a crashed container; a new pod starting empty is handled by the chat
    # service (its claims window starts again).
    assert all("emptyDir" in volume for volume in spec["volumes"])
    assert redis["spec"]["strategy"]["type"] == "Recreate"  # never two sets of counters
    context = security_context(redis, container)
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] != 0
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert container["readinessProbe"]["exec"]["command"] == ["redis-cli", "ping"]


def test_auth_and_chat_share_the_configured_redis_for_their_limits(
    overlay: list[dict[str, Any]],
) -> None:
    assert chat_config(overlay)["REDIS_URL"] == "redis://redis:6379/0"
    wanted = {"auth": "AUTH_RATE_LIMIT_STORAGE", "chat": "CHAT_RATE_LIMIT_STORAGE"}
    for name, variable in wanted.items():
        (container,) = pod_containers(named(overlay, "Deployment", name))
        env = {item["name"]: item for item in container["env"]}
        assert env[variable]["valueFrom"]["configMapKeyRef"]["key"] == "REDIS_URL", name


def test_auth_and_chat_trust_the_configured_proxies(base: list[dict[str, Any]]) -> None:
    assert chat_config(base)["TRUSTED_PROXIES"] == "10.0.0.0/8"
    for name in ("auth", "chat"):
        (container,) = pod_containers(named(base, "Deployment", name))
        env = {item["name"]: item for item in container["env"]}
        reference = env[f"{name.upper()}_TRUSTED_PROXIES"]["valueFrom"]["configMapKeyRef"]
        assert reference["key"] == "TRUSTED_PROXIES", name


@pytest.mark.parametrize(("which", "replicas", "min_isr"), [("dev", "1", "1"), ("prod", "3", "2")])
def test_the_migration_job_creates_the_topics_with_the_environments_replication(
    which: str, replicas: str, min_isr: str, request: pytest.FixtureRequest
) -> None:
    docs = request.getfixturevalue(which)
    job = named(docs, "Job", "migrate")
    (topics,) = [
        c for c in job["spec"]["template"]["spec"]["initContainers"] if c["name"] == "kafka-topics"
    ]
    script = topics["args"][0]
    (names,) = re.findall(r"for topic in ([^;]+);", script)
    assert set(names.split()) == {CHAT_MESSAGES, CHAT_MESSAGES_GROUPED, CHAT_MESSAGES_DEAD_LETTER}
    assert '--replication-factor "$REPLICATION"' in script
    assert '--config min.insync.replicas="$MIN_ISR"' in script
    env = {e["name"]: e["valueFrom"]["configMapKeyRef"]["key"] for e in topics["env"]}
    config = chat_config(docs)
    assert config[env["REPLICATION"]] == replicas
    assert config[env["MIN_ISR"]] == min_isr


def test_the_dev_broker_does_not_create_topics_itself(dev: list[dict[str, Any]]) -> None:
    kafka_env = {
        e["name"]: e.get("value")
        for e in pod_containers(named(dev, "StatefulSet", "kafka"))[0]["env"]
    }
    assert kafka_env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_the_firestore_emulator_mounts_the_repository_rules(dev: list[dict[str, Any]]) -> None:
    rules = [
        d
        for d in dev
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("firestore-rules-")
    ]
    assert rules[0]["data"]["firestore.rules"] == (REPO / "firestore.rules").read_text()
    emulator = named(dev, "Deployment", "firestore")["spec"]["template"]["spec"]
    assert emulator["volumes"][0]["configMap"]["name"] == rules[0]["metadata"]["name"]
    assert "--rules=/rules/firestore.rules" in emulator["containers"][0]["command"]


def test_compose_and_kubernetes_pin_the_same_images(
    dev: list[dict[str, Any]], compose: dict[str, Any]
) -> None:
    # The UI image is left out on both sides until compose runs the UI too.
    in_compose = {s.get("image") for s in compose["services"].values()} - {"chat-ui:dev"}
    in_cluster = {c["image"] for w in workloads(dev) for c in pod_containers(w)}
    assert in_cluster - {"chat-ui:dev"} == in_compose
    assert "chat-ui:dev" in in_cluster


def test_cassandra_runs_paxos_v2_and_batch_sync_in_compose_kubernetes_and_devstack(
    dev: list[dict[str, Any]], compose: dict[str, Any]
) -> None:
    # Paxos v2 halves the round trips of the chat service's idempotency claim; batch commit
    # log sync keeps acknowledged writes through a crash of the single node. The image reads
    # -Dcassandra.settings.* only when allowed to. Three places start Cassandra: one setting.
    wanted = (
        "-Dcassandra.config.allow_system_properties=true -Dcassandra.settings.paxos_variant=v2 "
        "-Dcassandra.settings.commitlog_sync=batch -Dcassandra.settings.commitlog_sync_period=0ms"
    )
    assert compose["services"]["cassandra"]["environment"]["JVM_EXTRA_OPTS"] == wanted
    (container,) = pod_containers(named(dev, "StatefulSet", "cassandra"))
    assert {"name": "JVM_EXTRA_OPTS", "value": wanted} in container["env"]
    devstack = (REPO / "devstack/src/devstack/components/cassandra.py").read_text()
    assert "\npaxos_variant: v2\n" in devstack
    assert "\ncommitlog_sync: batch\n" in devstack
    assert "commitlog_sync_period" not in devstack


def test_the_readme_documents_every_setting_and_secret(
    dev: list[dict[str, Any]], prod: list[dict[str, Any]]
) -> None:
    readme = (REPO / "k8s" / "README.md").read_text()
    table = "\n".join(line for line in readme.splitlines() if line.startswith("| `"))
    keys = set(chat_config(dev)) | set(chat_config(prod)) | dev_secret_keys() | PROD_SECRET_KEYS
    undocumented = sorted(key for key in keys if f"| `{key}` |" not in table)
    assert not undocumented, f"k8s/README.md's settings table lacks {undocumented}"
