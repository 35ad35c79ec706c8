"""docker-compose.yml: the stack's wiring, checked without a Docker engine."""

import importlib.util
import json
import os
import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml
from deployment_manifests import REPO, MissingVariable, load_compose

from chat_events import CHAT_MESSAGES, CHAT_MESSAGES_DEAD_LETTER, CHAT_MESSAGES_GROUPED

TOPICS = {CHAT_MESSAGES, CHAT_MESSAGES_GROUPED, CHAT_MESSAGES_DEAD_LETTER}
LONG_RUNNING = {
    "postgres",
    "redis",
    "kafka",
    "cassandra",
    "firestore",
    "firebase-auth",
    "auth",
    "chat",
    "aggregator",
    "aggregated-consumer",
    "ui",
}
ONE_SHOT = {"kafka-topics", "migrate"}


def test_the_stack_has_the_infrastructure_set_up_jobs_four_services_and_the_ui(
    compose: dict[str, Any],
) -> None:
    assert set(compose["services"]) == LONG_RUNNING | ONE_SHOT


def test_infrastructure_uses_the_official_images_at_the_agreed_versions(
    compose: dict[str, Any],
) -> None:
    images = {name: service.get("image") for name, service in compose["services"].items()}
    assert images["postgres"] == "postgres:15"
    assert images["kafka"] == images["kafka-topics"] == "apache/kafka:4.1.1"
    assert images["cassandra"] == "cassandra:5.0"
    assert images["redis"] == "redis:7-alpine"
    assert re.fullmatch(
        r"gcr\.io/google\.com/cloudsdktool/google-cloud-cli:[\d.]+-emulators", images["firestore"]
    )


def test_each_of_our_images_is_built_by_exactly_one_service(compose: dict[str, Any]) -> None:
    # Several services building one tag would build it several times, racing for the tag.
    builders = {
        name: (service["image"], service["build"]["target"])
        for name, service in compose["services"].items()
        if "build" in service
    }
    assert builders == {
        "migrate": ("chat-app:dev", "runtime"),
        "firebase-auth": ("chat-firebase-auth-emulator:dev", "firebase-auth-emulator"),
        "ui": ("chat-ui:dev", "runtime"),
    }
    users = {s["image"] for s in compose["services"].values() if s["image"].startswith("chat-")}
    assert users == {image for image, _ in builders.values()}


def test_every_published_port_listens_on_loopback_only(compose: dict[str, Any]) -> None:
    published = [
        (name, spec) for name, s in compose["services"].items() for spec in s.get("ports", [])
    ]
    assert len(published) == 11
    for name, spec in published:
        assert str(spec).startswith("127.0.0.1:"), f"{name} publishes {spec} on every interface"


def test_long_running_services_have_health_checks_and_dependencies_wait_for_them(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name in LONG_RUNNING:
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no health check"
    for name, service in services.items():
        for needed, rule in service.get("depends_on", {}).items():
            expected = "service_completed_successfully" if needed in ONE_SHOT else "service_healthy"
            assert rule == {"condition": expected}, f"{name} -> {needed}: {rule}"


def test_services_start_only_after_topics_and_migrations(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"migrate"} <= set(services["auth"]["depends_on"])
    assert {"migrate", "kafka-topics"} <= set(services["chat"]["depends_on"])
    assert {"kafka-topics"} <= set(services["aggregator"]["depends_on"])
    assert {"kafka-topics"} <= set(services["aggregated-consumer"]["depends_on"])
    assert services["migrate"]["restart"] == services["kafka-topics"]["restart"] == "no"


def test_the_http_services_count_their_limits_in_redis_which_keeps_nothing(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert services["auth"]["environment"]["AUTH_RATE_LIMIT_STORAGE"] == "redis://redis:6379/0"
    assert services["chat"]["environment"]["CHAT_RATE_LIMIT_STORAGE"] == "redis://redis:6379/0"
    assert {"redis"} <= set(services["auth"]["depends_on"]) & set(services["chat"]["depends_on"])
    # Claims live here: an append-only file on a volume, and a full server refuses writes
    # rather than evict one.
    redis = services["redis"]
    command = redis["command"]
    assert command[command.index("--save") + 1] == ""
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert redis["volumes"] == ["redis-data:/data"]


def test_the_topic_job_creates_exactly_the_chat_events_topics(compose: dict[str, Any]) -> None:
    script = compose["services"]["kafka-topics"]["command"][0]
    (names,) = re.findall(r"for topic in ([^;]+);", script)
    assert set(names.split()) == TOPICS
    assert "--if-not-exists" in script
    kafka = compose["services"]["kafka"]["environment"]
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper


def test_kafka_advertises_the_port_it_is_published_on(compose_env: dict[str, str]) -> None:
    # A client on the host bootstraps through the published port, then reconnects to the
    # advertised address: the two must agree, also when the port is moved.
    moved = load_compose({**compose_env, "KAFKA_HOST_PORT": "19999"})["services"]["kafka"]
    assert moved["ports"] == ["127.0.0.1:19999:9092"]
    assert "HOST://127.0.0.1:19999" in moved["environment"]["KAFKA_ADVERTISED_LISTENERS"]


def test_the_dev_stack_runs_in_development_mode(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if str(service.get("image", "")).startswith("chat-app:"):
            assert service["environment"]["APP_ENV"] == "development", name


@pytest.mark.parametrize("missing", ["JWT_SECRET", "POSTGRES_PASSWORD"])
def test_secrets_have_no_default_and_stop_compose_when_missing(
    compose_env: dict[str, str], missing: str
) -> None:
    env = {key: value for key, value in compose_env.items() if key != missing}
    with pytest.raises(MissingVariable, match=missing):
        load_compose(env)
    raw = (REPO / "docker-compose.yml").read_text()
    assert re.findall(rf"\$\{{{missing}(:?[^}}]*)\}}", raw)
    assert all(op.startswith(":?") for op in re.findall(rf"\$\{{{missing}(:?[^}}]*)\}}", raw))


def test_firestore_emulator_loads_the_repository_rules(compose: dict[str, Any]) -> None:
    firestore = compose["services"]["firestore"]
    (mount,) = firestore["volumes"]
    source, target, mode = mount.split(":")
    assert (REPO / source).resolve() == REPO / "firestore.rules"
    assert mode == "ro"
    assert f"--rules={target}" in firestore["command"]


def test_auth_emulator_image_installs_devstack_locked_firebase_tools(
    compose: dict[str, Any],
) -> None:
    build = compose["services"]["firebase-auth"]["build"]
    assert build["target"] == "firebase-auth-emulator"
    stage = dockerfile_stage("firebase-auth-emulator")
    assert "COPY devstack/package.json devstack/package-lock.json ./" in stage
    assert "npm ci" in stage
    wanted = json.loads((REPO / "devstack/package.json").read_text())["devDependencies"][
        "firebase-tools"
    ]
    locked = json.loads((REPO / "devstack/package-lock.json").read_text())["packages"][
        "node_modules/firebase-tools"
    ]
    assert locked["version"] == wanted


def test_every_build_may_use_the_optional_ca_secret_which_defaults_to_none(
    compose: dict[str, Any],
) -> None:
    builds = [s["build"] for s in compose["services"].values() if "build" in s]
    assert all(build.get("secrets") == ["extra_ca"] for build in builds)
    default = compose["secrets"]["extra_ca"]["file"]
    assert "BEGIN CERTIFICATE" not in (REPO / default).read_text()


def test_the_ui_reaches_the_services_by_name_and_the_browser_reaches_the_emulators(
    compose: dict[str, Any],
) -> None:
    ui = compose["services"]["ui"]
    environment = ui["environment"]
    assert environment["UI_AUTH_SERVICE_URL"] == "http://auth:8000"
    assert environment["UI_CHAT_SERVICE_URL"] == "http://chat:9000"
    published = {
        s["ports"][0].split(":")[1] for s in compose["services"].values() if s.get("ports")
    }
    for emulator in ("UI_FIRESTORE_EMULATOR_HOST", "UI_FIREBASE_AUTH_EMULATOR_HOST"):
        host, port = environment[emulator].split(":")
        assert host == "127.0.0.1", emulator
        assert port in published, emulator
    assert ui["read_only"] is True
    assert ui["cap_drop"] == ["ALL"]


def test_the_stand_ins_cover_every_image_compose_and_the_dockerfiles_fetch() -> None:
    # `make compose-check` runs without a registry: a fetched image without a stand-in fails it.
    spec = importlib.util.spec_from_file_location("standins", REPO / "deploy/standins/build.py")
    assert spec
    assert spec.loader
    standins = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(standins)
    covered = {stand_in.tag for stand_in in standins.stand_ins()}
    raw = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    built = {s["image"] for s in raw["services"].values() if "build" in s}
    fetched = {s["image"] for s in raw["services"].values()} - built
    arguments = dict(
        re.findall(r"^ARG (\w+)=(\S+)$", (REPO / "Dockerfile").read_text(), flags=re.M)
        + re.findall(r"^ARG (\w+)=(\S+)$", (REPO / "frontend/Dockerfile").read_text(), flags=re.M)
    )
    bases = {value for name, value in arguments.items() if name.endswith("_IMAGE")}
    assert fetched | bases | {f"ghcr.io/astral-sh/uv:{arguments['UV_VERSION']}"} <= covered


def dockerfile_stage(name: str) -> str:
    text = (REPO / "Dockerfile").read_text()
    (stage,) = re.findall(rf"^FROM \S+ AS {name}\n(.*?)(?=^FROM |\Z)", text, flags=re.M | re.S)
    return stage


def compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run(
            [docker, "compose", "version"], capture_output=True, check=False
        ).returncode
        == 0
    ):
        return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


def test_docker_compose_itself_accepts_the_file(compose_env: dict[str, str]) -> None:
    cli = compose_cli()
    if cli is None:
        pytest.skip("no `docker compose` plugin or docker-compose binary on this machine")
    command = [
        *cli,
        "--project-directory",
        str(REPO),
        "-f",
        str(REPO / "docker-compose.yml"),
        "config",
    ]
    # This machine's environment minus anything the compose file interpolates.
    variables = set(re.findall(r"\$\{(\w+)", (REPO / "docker-compose.yml").read_text()))
    clean = {key: value for key, value in os.environ.items() if key not in variables}
    result = subprocess.run(
        command, env={**clean, **compose_env}, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    normalized = yaml.safe_load(result.stdout)
    assert normalized["services"]["auth"]["ports"][0]["host_ip"] == "127.0.0.1"
    refused = subprocess.run(command, env=clean, capture_output=True, text=True, check=False)
    assert refused.returncode != 0
    assert "JWT_SECRET" in refused.stderr or "POSTGRES_PASSWORD" in refused.stderr
