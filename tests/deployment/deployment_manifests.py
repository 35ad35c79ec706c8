"""Reads the deployment files the way their tools do, into plain data the tests can check.

Covers what the tests need of each format, nothing more: compose variable interpolation,
the containers of a rendered kustomization with their environment resolved, and the
settings classes that each service command reads.
"""

import functools
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from aggregated_consumer.settings import ConsumerSettings
from aggregator.settings import AggregatorSettings
from auth_service.settings import AuthSettings
from auth_validator import JwtSettings
from chat_service.settings import ChatSettings

SettingsT = TypeVar("SettingsT", bound=BaseSettings)

REPO = Path(__file__).resolve().parents[2]
APP_IMAGE = "chat-app"
EMULATOR_IMAGE = "chat-firebase-auth-emulator"

# Which settings classes a service command reads (the auth service builds JwtSettings as
# part of its own settings; the chat service builds it for token verification).
COMMAND_SETTINGS: dict[str, tuple[type[BaseSettings], ...]] = {
    "auth-service": (AuthSettings, JwtSettings),
    "chat-service": (ChatSettings, JwtSettings),
    "aggregator": (AggregatorSettings,),
    "aggregated-consumer": (ConsumerSettings,),
}
# The workspace member (folder) whose pyproject.toml declares each command: the image runs
# the command, so a command moved to another member must move here too.
COMMAND_MEMBER = {
    "auth-service": "auth-microservice",
    "chat-service": "chat-microservice",
    "aggregator": "aggregator-service",
    "aggregated-consumer": "aggregated-messages-consumer",
}


@dataclass
class Container:
    """One process of the deployment that runs our image, from compose or Kubernetes."""

    where: str  # "compose service auth", "k8s Deployment/auth container auth"
    argv: list[str]
    env: dict[str, str]
    ports: list[int] = field(default_factory=list)
    probes: dict[str, tuple[int, str]] = field(default_factory=dict)  # kind -> (port, path)

    @property
    def commands(self) -> list[list[str]]:
        return split_commands(self.argv)


def split_commands(argv: list[str]) -> list[list[str]]:
    """`["/bin/sh", "-c", "a x && b y"]` -> `[["a","x"], ["b","y"]]`; otherwise `[argv]`."""
    if len(argv) == 3 and argv[0] in ("/bin/sh", "sh", "/bin/bash", "bash") and argv[1] == "-c":
        return [shlex.split(part) for part in argv[2].split("&&")]
    return [argv]


def by_command(containers: Iterable[Container]) -> dict[tuple[str, str], Container]:
    """Containers by their first command and its subcommand: `("auth-service", "serve")`."""
    return {(c.commands[0][0], c.commands[0][1]): c for c in containers}


def settings_from(
    settings_env: Callable[[dict[str, str]], None],
    container: Container,
    settings_class: type[SettingsT],
) -> SettingsT:
    """`settings_class` as the container's process builds it: from exactly its environment
    (`settings_env` is the conftest fixture that installs one)."""
    settings_env(container.env)
    return settings_class()


def settings_for(command: str) -> tuple[type[BaseSettings], ...]:
    return COMMAND_SETTINGS[command]


def env_names(settings_class: type[BaseSettings]) -> set[str]:
    """Every environment variable a settings class reads (upper case; it is case-blind)."""
    prefix = str(settings_class.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for name, info in settings_class.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(choice for choice in alias.choices if isinstance(choice, str))
        elif isinstance(alias, str):
            names.add(alias)
        else:
            names.add(prefix + name)
    # The stream services also read a few stack-wide variables without their prefix.
    stack: dict[str, str] = getattr(settings_class, "stack_variables", {})
    names.update(stack.values())
    return {name.upper() for name in names}


def readable_env(commands: list[list[str]]) -> set[str]:
    names: set[str] = set()
    for command in commands:
        for settings_class in settings_for(command[0]):
            names |= env_names(settings_class)
    return names


# --- docker compose -------------------------------------------------------------------------

_VARIABLE = re.compile(
    r"\$(?:\$|\{(?P<braced>[A-Za-z_]\w*)(?P<op>:?[-?])?(?P<arg>[^}]*)\}|(?P<bare>[A-Za-z_]\w*))"
)


class MissingVariable(ValueError):
    pass


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR:?error}` and `$$` (a literal `$`)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        value, op, arg = env.get(name), match.group("op"), match.group("arg") or ""
        empty_counts = bool(op) and op.startswith(":")
        missing = value is None or (empty_counts and value == "")
        if missing and op and op.endswith("?"):
            raise MissingVariable(f"{name}: {arg}")
        if missing and op and op.endswith("-"):
            return arg
        return value or ""

    return _VARIABLE.sub(replace, text)


def interpolate_tree(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [interpolate_tree(item, env) for item in node]
    if isinstance(node, dict):
        return {key: interpolate_tree(value, env) for key, value in node.items()}
    return node


def load_compose(env: Mapping[str, str]) -> dict[str, Any]:
    raw = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return interpolate_tree(raw, env)


def compose_app_containers(compose: dict[str, Any]) -> Iterator[Container]:
    for name, service in compose["services"].items():
        if not str(service.get("image", "")).startswith(APP_IMAGE + ":"):
            continue
        argv = [str(part) for part in service["command"]]
        env = {key: str(value) for key, value in (service.get("environment") or {}).items()}
        probes = {}
        check = service.get("healthcheck", {}).get("test")
        if check:
            url = check[-1]
            match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)(/.*)", url)
            assert match, f"compose service {name}: health check URL {url!r}"
            probes["health"] = (int(match.group(1)), match.group(2))
        ports = [int(str(spec).rsplit(":", 1)[1]) for spec in service.get("ports", [])]
        yield Container(f"compose service {name}", argv, env, ports, probes)


# --- Kubernetes -----------------------------------------------------------------------------


# Kubernetes version the rendered objects are validated for: kubectl's (1.32, with kustomize
# built in) and the kube-apiserver that `make k8s-check` builds (deploy/checks).
KUBERNETES_VERSION = "1.32.0"
# Where `make install` builds a standalone kustomize when neither kubectl nor kustomize is on
# PATH (scripts/install-kustomize.sh).
TOOLS_BIN = (
    Path(os.environ.get("CHAT_TOOLS_DIR", Path.home() / ".cache" / "chat-devstack" / "tools"))
    / "bin"
)


def kustomize_command() -> list[str] | None:
    """`kubectl kustomize` where kubectl is installed, else a standalone `kustomize build`
    (on PATH, or the one `make install` built); None when there is neither."""
    if binary := shutil.which("kubectl"):
        return [binary, "kustomize"]
    standalone = shutil.which("kustomize") or shutil.which("kustomize", path=str(TOOLS_BIN))
    return [standalone, "build"] if standalone else None


def render_text(path: str) -> str:
    """The kustomization at `path` rendered offline, as the renderer prints it. Overlays may
    read files above their folder (the dev overlay's firestore.rules), hence the flag."""
    command = kustomize_command()
    assert command is not None, "neither kubectl nor kustomize is installed"
    result = subprocess.run(
        [*command, "--load-restrictor", "LoadRestrictionsNone", str(REPO / path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def parse_rendered(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


@functools.cache
def rendered_overlay(path: str) -> str:
    """render_text, once per test session: several test modules check the same overlays."""
    return render_text(path)


def rendered_docs(path: str) -> list[dict[str, Any]]:
    """The objects of the kustomization at `path`, rendered once per session; skips the
    test when neither kubectl nor kustomize is installed. A fresh copy on each call, so a
    test may change it."""
    if kustomize_command() is None:
        pytest.skip("neither kubectl nor kustomize is installed (make install builds kustomize)")
    return parse_rendered(rendered_overlay(path))


def schema_problems(rendered: str) -> list[str]:
    """What `kubernetes-validate --strict` finds wrong with rendered objects, one line each:
    a field the Kubernetes schema does not have, a wrong type, a missing required field. A
    kind it has no schema for (a CRD) is only a warning to the tool, so it would pass
    unchecked; here it is a problem too."""
    tool = Path(sys.executable).with_name("kubernetes-validate")
    result = subprocess.run(
        [str(tool), "--strict", "--quiet", "--kubernetes-version", KUBERNETES_VERSION, "-"],
        input=rendered,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.startswith(("ERROR", "WARN", "FATAL"))
    ]
    if result.returncode != 0 and not problems:
        problems.append(f"kubernetes-validate exited {result.returncode}: {result.stderr}")
    return problems


def workloads(docs: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet", "Job", "DaemonSet"):
            yield doc


def pod_containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = workload["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def config_maps(docs: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {
        doc["metadata"]["name"]: doc.get("data", {}) for doc in docs if doc["kind"] == "ConfigMap"
    }


def chat_config(docs: list[dict[str, Any]]) -> dict[str, str]:
    """The data of the services' shared ConfigMap (named `chat-config-<hash>` by kustomize)."""
    (config,) = [v for name, v in config_maps(docs).items() if name.startswith("chat-config-")]
    return config


def resolve_env(
    container: dict[str, Any],
    maps: dict[str, dict[str, str]],
    secrets: Mapping[str, str],
    pod_name: str,
) -> dict[str, str]:
    """The environment the container would see, with references looked up."""
    env: dict[str, str] = {}
    for item in container.get("env", []):
        source = item.get("valueFrom")
        if source is None:
            value = re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), item["value"])
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            value = maps[ref["name"]][ref["key"]]
        elif "secretKeyRef" in source:
            value = secrets[source["secretKeyRef"]["key"]]
        elif source.get("fieldRef", {}).get("fieldPath") == "metadata.name":
            value = pod_name
        else:
            raise AssertionError(f"unsupported env source {source}")
        env[item["name"]] = value
    return env


def k8s_app_containers(
    docs: list[dict[str, Any]], secrets: Mapping[str, str]
) -> Iterator[Container]:
    maps = config_maps(docs)
    for workload in workloads(docs):
        kind, name = workload["kind"], workload["metadata"]["name"]
        pod_name = f"{name}-0" if kind == "StatefulSet" else f"{name}-7d9f8-x2k4q"
        for container in pod_containers(workload):
            if not container["image"].startswith(APP_IMAGE + ":"):
                continue
            named_ports = {
                port["name"]: port["containerPort"] for port in container.get("ports", [])
            }
            probes = {}
            for kind_of_probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                get = container.get(kind_of_probe, {}).get("httpGet")
                if get:
                    port = named_ports.get(get["port"], get["port"])
                    probes[kind_of_probe] = (int(port), get["path"])
            yield Container(
                f"k8s {kind}/{name} container {container['name']}",
                [*container.get("command", []), *container.get("args", [])],
                resolve_env(container, maps, secrets, pod_name),
                list(named_ports.values()),
                probes,
            )


def dev_app_containers(
    compose: dict[str, Any], dev_docs: list[dict[str, Any]], secrets: Mapping[str, str]
) -> list[Container]:
    """Our containers in development: compose's, then the rendered dev overlay's."""
    return [*compose_app_containers(compose), *k8s_app_containers(dev_docs, secrets)]


def dev_secret_keys() -> set[str]:
    """The keys k8s/dev-secret.sh puts into `chat-secrets`."""
    script = (REPO / "k8s" / "dev-secret.sh").read_text()
    return set(re.findall(r"--from-literal=(\w+)=", script))


def clean_environment() -> dict[str, str]:
    """This process's environment minus everything any of our settings classes reads."""
    read = set().union(*(env_names(cls) for group in COMMAND_SETTINGS.values() for cls in group))
    prefixes = ("AUTH_", "CHAT_", "AGGREGATOR_", "CONSUMER_", "JWT_")
    return {
        key: value
        for key, value in os.environ.items()
        if key.upper() not in read and not key.upper().startswith(prefixes)
    }


# --- Dockerfile and .dockerignore -----------------------------------------------------------


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]]  # (INSTRUCTION, arguments), continuations joined


def dockerfile_stages() -> list[Stage]:
    text = (REPO / "Dockerfile").read_text()
    logical, current = [], ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        current += line.rstrip("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            logical.append(current.strip())
            current = ""
    stages: list[Stage] = []
    for line in logical:
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            parts = arguments.split()
            stages.append(Stage(parts[-1] if "AS" in parts else "", parts[0], []))
        elif stages:
            stages[-1].instructions.append((instruction.upper(), arguments))
    return stages


def stage(name: str) -> Stage:
    (found,) = [s for s in dockerfile_stages() if s.name == name]
    return found


def _ignore_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def dockerignore_excludes(path: str) -> bool:
    """Whether Docker leaves `path` (relative, with /) out of the build context: the last
    pattern matching the path or one of its parent folders decides; `!` re-includes."""
    rules = []
    for line in (REPO / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            negated = line.startswith("!")
            rules.append((negated, _ignore_regex(line.lstrip("!").strip("/"))))
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negated, regex in rules:
        if any(regex.fullmatch(candidate) for candidate in candidates):
            excluded = not negated
    return excluded
