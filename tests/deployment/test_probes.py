"""Health checks and probes ask for paths the services really serve, on the right ports."""

import re
from typing import Any

import httpx
import pytest
from deployment_manifests import Container, dev_app_containers, k8s_app_containers, workloads
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from auth_service.main import create_app as create_auth_app
from chat_service.main import create_app as create_chat_app
from chat_service.settings import ChatSettings
from devstack.testing import free_port
from stream_kit import ProbeServer


async def probe_statuses(server_class: type, paths: list[str]) -> dict[str, int]:
    """Starts the service's real probe server (ready) and asks it for each path."""
    server = server_class(CollectorRegistry(), lambda: None)
    port = free_port()
    await server.start("127.0.0.1", port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            return {path: (await client.get(path)).status_code for path in paths}
    finally:
        await server.stop()


@pytest.fixture
def served(settings_env: Any) -> dict[str, TestClient]:
    """The two HTTP apps, built with development defaults. The lifespan does not run, so
    /ready cannot reach its databases and fails with 500; an unknown path is still 404."""
    settings_env({})
    apps = {
        "auth-service": create_auth_app(),
        "chat-service": create_chat_app(ChatSettings()),
    }
    return {name: TestClient(app, raise_server_exceptions=False) for name, app in apps.items()}


def is_routed(client: TestClient, path: str) -> bool:
    return client.get(path).status_code not in (404, 405)


def app_containers(
    compose: dict[str, Any], dev_docs: list[dict[str, Any]], secrets: dict[str, str]
) -> list[Container]:
    found = dev_app_containers(compose, dev_docs, secrets)
    return [c for c in found if c.commands[0][1] in ("serve", "run")]


async def test_probe_paths_are_served_and_ports_are_the_container_ports(
    served: dict[str, TestClient],
    compose: dict[str, Any],
    dev_docs: list[dict[str, Any]],
    cluster_secrets: dict[str, str],
) -> None:
    containers = app_containers(compose, dev_docs, cluster_secrets)
    assert len(containers) == 8
    for container in containers:
        assert container.probes, f"{container.where} has no HTTP health check"
        command = container.commands[0][0]
        for kind, (port, path) in container.probes.items():
            assert port in container.ports, f"{container.where} {kind}: port {port}"
            if command in served:
                assert is_routed(served[command], path), (
                    f"{container.where} {kind}: {path} not served"
                )
                if path.rstrip("/").endswith("/health"):
                    assert served[command].get(path).status_code == 200, container.where
            else:
                # Both stream services serve their probes with the stream kit's server.
                status = (await probe_statuses(ProbeServer, [path]))[path]
                assert status == 200, f"{container.where} {kind}: {path} answered {status}"
        if command in ("aggregator", "aggregated-consumer"):
            prefix = command.upper().replace("-", "_")  # docs/architecture.md, "Names"
            assert int(container.env[f"{prefix}_HTTP_PORT"]) in container.ports, container.where


def test_kubernetes_readiness_uses_ready_and_liveness_uses_health(
    dev_docs: list[dict[str, Any]], compose: dict[str, Any], cluster_secrets: dict[str, str]
) -> None:
    # Liveness must not depend on Postgres/Kafka/Cassandra (an outage would restart every
    # pod for nothing); readiness must, so traffic goes only to pods that can serve it.
    for container in k8s_app_containers(dev_docs, cluster_secrets):
        if container.commands[0][1] == "migrate":
            continue
        assert container.probes["readinessProbe"][1].rstrip("/").endswith("/ready"), container.where
        assert container.probes["livenessProbe"][1].rstrip("/").endswith("/health"), container.where


async def test_a_wrong_probe_path_would_be_caught(served: dict[str, TestClient]) -> None:
    assert is_routed(served["auth-service"], "/auth/api/ready/")
    assert not is_routed(served["auth-service"], "/auth/api/readyz")
    statuses = await probe_statuses(ProbeServer, ["/ready", "/readyz"])
    assert statuses == {"/ready": 200, "/readyz": 404}


def test_emulator_health_checks_ask_paths_the_emulators_answer(
    stack: Any, compose: dict[str, Any], dev_docs: list[dict[str, Any]]
) -> None:
    # The same emulator software runs in the local stack; ask it what the containers ask.
    hosts = {
        "firestore": stack.firestore_emulator_host,
        "firebase-auth": stack.firebase_auth_emulator_host,
    }
    for name, host in hosts.items():
        (url,) = re.findall(
            r"http://127\.0\.0\.1:\d+(/[^'\" ]*)",
            str(compose["services"][name]["healthcheck"]["test"]),
        )
        workload = next(w for w in workloads(dev_docs) if w["metadata"]["name"] == name)
        probe_paths = {
            container[kind]["httpGet"]["path"]
            for container in workload["spec"]["template"]["spec"]["containers"]
            for kind in ("readinessProbe", "livenessProbe")
        }
        for path in {url, *probe_paths}:
            assert httpx.get(f"http://{host}{path}", timeout=10).status_code == 200, (
                f"{name}: {path}"
            )
