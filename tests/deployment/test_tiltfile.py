"""The Tiltfile, executed with recording stand-ins for Tilt's built-ins (Starlark is
Python-compatible here), then checked against the rendered dev overlay and the Dockerfile."""

import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from deployment_manifests import REPO, dockerfile_stages, pod_containers, workloads


@dataclass
class TiltCalls:
    builds: list[dict[str, Any]] = field(default_factory=list)
    yaml: list[Any] = field(default_factory=list)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    local: list[str] = field(default_factory=list)
    watched: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def tilt() -> TiltCalls:
    calls = TiltCalls()

    def docker_build(ref: str, context: str, **options: Any) -> None:
        calls.builds.append({"ref": ref, "context": context, **options})

    def k8s_resource(name: str, **options: Any) -> None:
        assert name not in calls.resources, f"k8s_resource({name!r}) twice"
        calls.resources[name] = options

    builtins = {
        "local": lambda command, **_: calls.local.append(command),
        "docker_build": docker_build,
        "watch_file": calls.watched.append,
        "kustomize": lambda path, flags=(), **_: ("kustomize", path, list(flags)),
        "k8s_yaml": calls.yaml.append,
        "k8s_resource": k8s_resource,
    }
    source = (REPO / "Tiltfile").read_text()
    exec(compile(source, "Tiltfile", "exec"), {"__builtins__": {}, **builtins})  # noqa: S102
    return calls


def test_the_tiltfile_deploys_the_dev_overlay(tilt: TiltCalls) -> None:
    assert tilt.yaml == [
        ("kustomize", "k8s/overlays/dev", ["--load-restrictor=LoadRestrictionsNone"])
    ]
    assert "firestore.rules" in tilt.watched
    (script,) = tilt.local
    assert os.access(REPO / script, os.X_OK), script


def test_it_builds_every_image_the_overlay_runs_from_existing_dockerfile_targets(
    tilt: TiltCalls, dev_docs: list[dict[str, Any]]
) -> None:
    images = {c["image"] for w in workloads(dev_docs) for c in pod_containers(w)}
    ours = {image.split(":")[0] for image in images if image.startswith("chat-")}
    assert (
        {build["ref"] for build in tilt.builds}
        == ours
        == {"chat-app", "chat-firebase-auth-emulator"}
    )
    targets = {stage.name for stage in dockerfile_stages()}
    for build in tilt.builds:
        assert build["target"] in targets
        assert (REPO / build["context"] / build.get("dockerfile", "Dockerfile")).exists()
        for path in build.get("only", []):
            assert (REPO / path).exists(), path


def test_every_workload_is_a_resource_and_dependencies_form_no_cycle(
    tilt: TiltCalls, dev_docs: list[dict[str, Any]]
) -> None:
    names = {w["metadata"]["name"] for w in workloads(dev_docs)}
    assert set(tilt.resources) == names
    for name, options in tilt.resources.items():
        assert set(options.get("resource_deps", [])) <= names, name
    # Tilt would wait forever on a cycle: walk the graph.
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"dependency cycle: {' -> '.join((*path, name))}"
        if name not in done:
            for dep in tilt.resources[name].get("resource_deps", []):
                visit(dep, (*path, name))
            done.add(name)

    for name in names:
        visit(name, ())
    assert "migrate" in tilt.resources["auth"]["resource_deps"]
    assert "migrate" in tilt.resources["chat"]["resource_deps"]


def test_port_forwards_reach_ports_the_containers_listen_on(
    tilt: TiltCalls, dev_docs: list[dict[str, Any]]
) -> None:
    forwards = {name: options.get("port_forwards", []) for name, options in tilt.resources.items()}
    assert forwards["auth"] == ["8000:8000"]
    assert forwards["chat"] == ["9000:9000"]
    by_name = {w["metadata"]["name"]: w for w in workloads(dev_docs)}
    for name, specs in forwards.items():
        ports = {
            p["containerPort"] for c in pod_containers(by_name[name]) for p in c.get("ports", [])
        }
        for spec in specs:
            assert int(spec.split(":")[1]) in ports, f"{name}: {spec}"
