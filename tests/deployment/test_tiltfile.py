"""The Tiltfile, executed with recording stand-ins for Tilt's built-ins (Starlark is
Python-compatible here), then checked against the rendered dev overlay and the Dockerfile."""

import os
import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from deployment_manifests import (
    REPO,
    chat_config,
    dockerfile_stages,
    pod_containers,
    workloads,
)


@dataclass
class TiltCalls:
    builds: list[dict[str, Any]] = field(default_factory=list)
    yaml: list[Any] = field(default_factory=list)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    local: list[str] = field(default_factory=list)
    watched: list[str] = field(default_factory=list)
    allowed_contexts: list[str] = field(default_factory=list)
    registries: list[str] = field(default_factory=list)


def run_tiltfile(
    settings: dict[str, str] | None = None, environment: dict[str, str] | None = None
) -> TiltCalls:
    """Runs the Tiltfile with `settings` as tilt_config.json (or `tilt up -- --NAME=VALUE`)
    would give them and `environment` as its process environment."""
    calls = TiltCalls()
    defined: list[str] = []

    def docker_build(ref: str, context: str, **options: Any) -> None:
        calls.builds.append({"ref": ref, "context": context, **options})

    def k8s_resource(name: str, **options: Any) -> None:
        assert name not in calls.resources, f"k8s_resource({name!r}) twice"
        calls.resources[name] = options

    def parse() -> dict[str, str]:
        # Tilt stops at a setting the Tiltfile did not define.
        unknown = set(settings or {}) - set(defined)
        assert not unknown, f"tilt_config.json: unknown setting {unknown}"
        return dict(settings or {})

    config = SimpleNamespace(
        define_string=lambda name, args=False, usage="": defined.append(name), parse=parse
    )
    # Tilt's os.path resolves paths against the Tiltfile's folder, the repository root.
    tilt_os = SimpleNamespace(
        path=SimpleNamespace(exists=lambda path: (REPO / path).exists()),
        getenv=lambda key, default=None: (environment or {}).get(key, default),
    )
    builtins = {
        "config": config,
        "os": tilt_os,
        "allow_k8s_contexts": calls.allowed_contexts.append,
        "default_registry": calls.registries.append,
        "sync": lambda local_path, remote_path: ("sync", local_path, remote_path),
        "fall_back_on": lambda paths: ("fall_back_on", list(paths)),
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


@pytest.fixture(scope="module")
def tilt() -> TiltCalls:
    return run_tiltfile()


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
        == {"chat-app", "chat-firebase-auth-emulator", "chat-ui"}
    )
    for build in tilt.builds:
        # Tilt reads `dockerfile` relative to the Tiltfile, and defaults to the context's.
        dockerfile = build.get("dockerfile") or f"{build['context']}/Dockerfile"
        assert build["target"] in dockerfile_targets(dockerfile), build["ref"]
        for path in build.get("only", []):
            assert (REPO / path).exists(), path


def dockerfile_targets(path: str) -> set[str]:
    if path == "Dockerfile":
        return {stage.name for stage in dockerfile_stages()}
    text = (REPO / path).read_text()
    return set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, re.MULTILINE | re.IGNORECASE))


def test_the_ui_live_updates_its_sources_and_rebuilds_on_dependency_changes(
    tilt: TiltCalls,
) -> None:
    (ui,) = [build for build in tilt.builds if build["ref"] == "chat-ui"]
    assert (ui["context"], ui["dockerfile"], ui["target"]) == (
        "frontend",
        "frontend/Dockerfile",
        "dev",
    )
    steps = ui["live_update"]
    # Tilt's order: fall_back_on steps, then syncs.
    assert [step[0] for step in steps] == sorted((s[0] for s in steps), key="fall_back_on".__ne__)
    fall_back = {path for step in steps if step[0] == "fall_back_on" for path in step[1]}
    assert {"frontend/package.json", "frontend/package-lock.json"} <= fall_back
    syncs = {step[1]: step[2] for step in steps if step[0] == "sync"}
    source_folders = {"app", "components", "hooks", "lib", "public"}
    assert syncs == {
        f"frontend/{folder}": f"/app/{folder}"
        for folder in source_folders
        if (REPO / "frontend" / folder).is_dir()
    }
    assert {"frontend/app", "frontend/components", "frontend/hooks", "frontend/lib"} <= set(syncs)


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
    assert forwards["ui"] == ["3000:3000"]
    by_name = {w["metadata"]["name"]: w for w in workloads(dev_docs)}
    for name, specs in forwards.items():
        ports = {
            p["containerPort"] for c in pod_containers(by_name[name]) for p in c.get("ports", [])
        }
        for spec in specs:
            assert int(spec.split(":")[1]) in ports, f"{name}: {spec}"


def test_the_ui_hands_the_browser_the_emulator_ports_tilt_forwards(
    tilt: TiltCalls, dev_docs: list[dict[str, Any]]
) -> None:
    # The browser connects to the emulators itself, through these port-forwards.
    config = chat_config(dev_docs)
    forwarded = {
        name: tilt.resources[name]["port_forwards"] for name in ("firestore", "firebase-auth")
    }
    for name, key in (
        ("firestore", "BROWSER_FIRESTORE_EMULATOR_HOST"),
        ("firebase-auth", "BROWSER_FIREBASE_AUTH_EMULATOR_HOST"),
    ):
        host, port = config[key].split(":")
        assert host == "127.0.0.1"
        assert [spec.split(":")[0] for spec in forwarded[name]] == [port], name


def test_unconfigured_it_allows_no_remote_context_and_keeps_tilts_registry(
    tilt: TiltCalls,
) -> None:
    assert tilt.allowed_contexts == []
    assert tilt.registries == []


def test_a_machine_names_its_cluster_and_registry_in_tilt_config() -> None:
    calls = run_tiltfile(
        {"allow-k8s-context": "node-1", "default-registry": "127.0.0.1:5000"},
        {"CHAT_TILT_ALLOW_K8S_CONTEXT": "other", "CHAT_TILT_DEFAULT_REGISTRY": "other:5000"},
    )
    assert calls.allowed_contexts == ["node-1"]
    assert calls.registries == ["127.0.0.1:5000"]


def test_the_environment_names_them_when_tilt_config_does_not() -> None:
    calls = run_tiltfile(
        {},
        {"CHAT_TILT_ALLOW_K8S_CONTEXT": "node-1", "CHAT_TILT_DEFAULT_REGISTRY": "127.0.0.1:5000"},
    )
    assert calls.allowed_contexts == ["node-1"]
    assert calls.registries == ["127.0.0.1:5000"]


def test_every_build_gets_the_extra_ca_secret_only_when_one_is_named() -> None:
    with_ca = run_tiltfile({}, {"BUILD_EXTRA_CA_FILE": "/etc/proxy-ca.pem"})
    assert {tuple(build["secret"]) for build in with_ca.builds} == {
        ("id=extra_ca,src=/etc/proxy-ca.pem",)
    }
    assert all(build["secret"] == [] for build in run_tiltfile().builds)


def _copied_sources(dockerfile: str, target: str) -> list[str]:
    """What the stage `target` of a Dockerfile copies from the build context."""
    sources, in_target = [], False
    for line in dockerfile.splitlines():
        words = line.split()
        if words[:1] == ["FROM"]:
            in_target = words[-1] == target
        elif in_target and words[:1] == ["COPY"] and not words[1].startswith("--from"):
            sources += [word for word in words[1:-1] if not word.startswith("--")]
    return sources


def test_a_build_limited_to_some_files_gets_every_file_its_target_copies() -> None:
    limited = [build for build in run_tiltfile().builds if build.get("only")]
    assert limited, "no build names `only`: nothing checked"
    for build in limited:
        dockerfile = (REPO / build.get("dockerfile", "Dockerfile")).read_text()
        for source in _copied_sources(dockerfile, build["target"]):
            assert any(source.startswith(kept) for kept in build["only"]), (build["ref"], source)
