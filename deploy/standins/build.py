"""Builds local stand-ins for the third-party images docker-compose.yml and the Dockerfile name,
for a machine that can run Docker but reach no image registry.

Each stand-in is tagged with the official name (postgres:15, apache/kafka:4.1.1, ...), so the
unmodified compose file runs with them. A tag that already exists and is not a stand-in (an
official image pulled earlier) is left alone and used as it is. Every stand-in carries the
label `chat.standin=true`; `--remove` deletes exactly those. `--cluster` adds the pod sandbox
image a Kubernetes node runs (registry.k8s.io/pause), `--missing` builds only the stand-ins
whose image is absent.

The contents come from what this machine already has: Debian packages (through mmdebstrap),
the Kafka and Cassandra jars devstack collects from Maven Central, the Cloud SDK's Firestore
emulator, this machine's Node.js and uv, the pause program's source in the Kubernetes Go
module (compiled with gcc). Run with the workspace's Python (it uses devstack).
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devstack.components.cassandra import JAVA17_MODULE_FLAGS
from devstack.downloads import ensure_classpath
from devstack.java import find_java17
from devstack.settings import StackSettings

HERE = Path(__file__).resolve().parent
LABEL = "chat.standin=true"
CQLSH_VERSION = "6.2.2"
# The sandbox image kubelet 1.32 and the node's containerd configuration name, built from the
# Kubernetes module the node's binaries come from (deploy/checks/build-kubernetes.sh).
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
KUBERNETES_VERSION = os.environ.get("K8S_VERSION", "v1.32.4")

# Two Debian root filesystems: a small one under the Python and Node images, and one with the
# servers' packages under the infrastructure images.
ROOT_FILESYSTEMS = {
    "chat-standin/python:bookworm": [
        "python3", "python3-venv", "python-is-python3", "passwd", "ca-certificates",
    ],
    "chat-standin/services:bookworm": [
        "python3", "python3-venv", "passwd", "ca-certificates", "curl", "procps",
        "openjdk-17-jre-headless", "postgresql-15", "redis-server",
    ],
}  # fmt: skip
IMPORT_CHANGES = [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["bash"]',
    f"LABEL {LABEL}",
]


@dataclass(frozen=True)
class StandIn:
    """One image: the tag it stands in for, its folder here, and what it adds to the context."""

    tag: str
    folder: str
    stage: Callable[[Path, StackSettings], None] | None = None


def _copy_jars(pom: str, target: Path, settings: StackSettings) -> None:
    java_home = find_java17(settings.java_home, settings.jvm_dirs).parent.parent
    jars = ensure_classpath(pom, settings.cache_dir, java_home, _say)
    target.mkdir()
    for jar in jars.glob("*.jar"):
        shutil.copy2(jar, target / jar.name)


def _stage_kafka(context: Path, settings: StackSettings) -> None:
    _copy_jars("kafka-pom.xml", context / "libs", settings)


def _stage_cassandra(context: Path, settings: StackSettings) -> None:
    _copy_jars("cassandra-pom.xml", context / "lib", settings)
    (context / "jvm17-server.options").write_text("\n".join(JAVA17_MODULE_FLAGS) + "\n")
    wheels = settings.cache_dir / "standins" / f"cqlsh-{CQLSH_VERSION}-wheels"
    if not wheels.exists():
        partial = wheels.with_name(wheels.name + ".partial")
        _run([
            _uv(), "tool", "run", "pip", "download", "--quiet", "--only-binary=:all:",
            "--python-version", "3.11", "--implementation", "cp",
            "--platform", "manylinux2014_x86_64", f"cqlsh=={CQLSH_VERSION}", "-d", str(partial),
        ])  # fmt: skip
        partial.rename(wheels)
    shutil.copytree(wheels, context / "wheels")


def _stage_firestore(context: Path, settings: StackSettings) -> None:
    sdk_root = _output(["gcloud", "info", "--format=value(installation.sdk_root)"])
    emulator = Path(sdk_root) / "platform" / "cloud-firestore-emulator"
    shutil.copytree(emulator, context / "cloud-firestore-emulator")


def _stage_node(context: Path, settings: StackSettings) -> None:
    node = Path(_which("node")).resolve()
    shutil.copy2(node, context / "node")
    npm_root = Path(_output(["npm", "root", "--global"]))
    shutil.copytree(npm_root / "npm", context / "npm", symlinks=True)


def _stage_pause(context: Path, settings: StackSettings) -> None:
    module = json.loads(
        _output(["go", "mod", "download", "-json", f"k8s.io/kubernetes@{KUBERNETES_VERSION}"])
    )
    source = Path(module["Dir"]) / "build" / "pause"
    tag = PAUSE_IMAGE.rsplit(":", 1)[1]
    if f"TAG ?= {tag}\n" not in (source / "Makefile").read_text():
        raise SystemExit(f"Kubernetes {KUBERNETES_VERSION} does not build pause {tag}")
    # The official image's flags (build/pause/Makefile), with the module's version as revision.
    _run([
        _which("gcc"), "-Os", "-Wall", "-Werror", "-static",
        f"-DVERSION=v{tag}-{KUBERNETES_VERSION}",
        "-o", str(context / "pause"), str(source / "linux" / "pause.c"),
    ])  # fmt: skip


def _uv() -> str:
    return os.environ.get("UV") or _which("uv")


def _stage_uv(context: Path, settings: StackSettings) -> None:
    uv = _uv()
    wanted = _dockerfile_arg("UV_VERSION")
    if _output([uv, "--version"]).split()[1] != wanted:
        raise SystemExit(f"{uv} is not uv {wanted}, the release the Dockerfile names")
    shutil.copy2(Path(uv).resolve(), context / "uv")


def stand_ins(cluster: bool = False) -> list[StandIn]:
    """The images to stand in for, with the versions the compose file and Dockerfile name."""
    uv_version = _dockerfile_arg("UV_VERSION")
    pause = [StandIn(PAUSE_IMAGE, "pause", _stage_pause)] if cluster else []
    return [
        StandIn(_dockerfile_arg("PYTHON_IMAGE"), "", None),
        StandIn(f"ghcr.io/astral-sh/uv:{uv_version}", "uv", _stage_uv),
        StandIn(_dockerfile_arg("NODE_IMAGE"), "node", _stage_node),
        StandIn("postgres:15", "postgres"),
        StandIn("redis:7-alpine", "redis"),
        StandIn("apache/kafka:4.1.1", "kafka", _stage_kafka),
        StandIn("cassandra:5.0", "cassandra", _stage_cassandra),
        StandIn("gcr.io/google.com/cloudsdktool/google-cloud-cli:528.0.0-emulators", "firestore",
                _stage_firestore),
        *pause,
    ]  # fmt: skip


def build_all(settings: StackSettings, images: list[StandIn], missing_only: bool) -> None:
    to_build = []
    for stand_in in images:
        labels = _inspect_labels(stand_in.tag)
        if labels is not None and labels.get("chat.standin") != "true":
            _say(f"{stand_in.tag}: an image of that name exists and is not a stand-in; using it")
        elif labels is None or not missing_only:
            to_build.append(stand_in)
    bases = {_root_filesystem(stand_in) for stand_in in to_build}
    for tag in sorted(base for base in bases if base is not None):
        packages = ROOT_FILESYSTEMS[tag]
        _timed(f"root filesystem {tag}", lambda t=tag, p=packages: _import_rootfs(t, p, settings))
    for stand_in in to_build:
        _timed(f"stand-in {stand_in.tag}", lambda s=stand_in: _build(s, settings))


def _root_filesystem(stand_in: StandIn) -> str | None:
    """The Debian root filesystem image a stand-in starts from, if any (its Dockerfile's FROM)."""
    if not stand_in.folder:
        return "chat-standin/python:bookworm"
    for line in (HERE / stand_in.folder / "Dockerfile").read_text().splitlines():
        if line.startswith("FROM "):
            base = line.split()[1]
            return base if base in ROOT_FILESYSTEMS else None
    return None


def remove_all() -> None:
    images = _output(
        ["docker", "images", "--filter", f"label={LABEL}", "--format", "{{.Repository}}:{{.Tag}}"]
    )
    tags = [tag for tag in images.split() if not tag.endswith(":<none>")]
    if tags:
        _run(["docker", "rmi", *tags])


def _import_rootfs(tag: str, packages: list[str], settings: StackSettings) -> None:
    fingerprint = hashlib.sha256(" ".join(packages).encode()).hexdigest()[:10]
    tarball = (
        settings.cache_dir
        / "standins"
        / f"{tag.replace('/', '-').replace(':', '-')}-{fingerprint}.tar"
    )
    if _image_label(tag) == fingerprint:
        return
    if not tarball.exists():
        tarball.parent.mkdir(parents=True, exist_ok=True)
        partial = tarball.with_name(tarball.stem + ".partial.tar")  # mmdebstrap: format by suffix
        _run(["mmdebstrap", "--quiet", "--variant=minbase", f"--include={','.join(packages)}",
              "bookworm", str(partial)])  # fmt: skip
        partial.rename(tarball)
    changes = [*IMPORT_CHANGES, f"LABEL chat.standin.rootfs={fingerprint}"]
    _run(["docker", "import", *(f"--change={change}" for change in changes), str(tarball), tag])


def _build(stand_in: StandIn, settings: StackSettings) -> None:
    if not stand_in.folder:
        _run(["docker", "tag", "chat-standin/python:bookworm", stand_in.tag])
        return
    with tempfile.TemporaryDirectory(prefix="standin-") as folder:
        context = Path(folder)
        shutil.copytree(HERE / stand_in.folder, context, dirs_exist_ok=True)
        if stand_in.stage is not None:
            stand_in.stage(context, settings)
        _run(["docker", "build", "--quiet", "--label", LABEL, "--tag", stand_in.tag, str(context)])


def _image_label(tag: str) -> str | None:
    labels = _inspect_labels(tag)
    return None if labels is None else labels.get("chat.standin.rootfs")


def _inspect_labels(tag: str) -> dict[str, str] | None:
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", tag],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        return None
    return json.loads(result.stdout) or {}


def _dockerfile_arg(name: str) -> str:
    for line in (HERE.parent.parent / "Dockerfile").read_text().splitlines():
        if line.startswith(f"ARG {name}="):
            return line.split("=", 1)[1].strip()
    raise SystemExit(f"the Dockerfile declares no ARG {name}")


def _which(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise SystemExit(f"{program} is needed to build the stand-in images and is not installed")
    return path


def _output(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def _run(command: list[str]) -> None:
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def _timed(what: str, step: Callable[[], None]) -> None:
    started = time.monotonic()
    step()
    _say(f"{what}: {time.monotonic() - started:.1f} s")


def _say(message: str) -> None:
    print(f"[stand-ins] {message}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--remove", action="store_true", help="delete every stand-in image")
    parser.add_argument(
        "--cluster", action="store_true", help=f"also {PAUSE_IMAGE}, for a Kubernetes node"
    )
    parser.add_argument(
        "--missing", action="store_true", help="build only the stand-ins whose image is absent"
    )
    arguments = parser.parse_args()
    if arguments.remove:
        remove_all()
    else:
        build_all(StackSettings(), stand_ins(arguments.cluster), arguments.missing)


if __name__ == "__main__":
    main()
