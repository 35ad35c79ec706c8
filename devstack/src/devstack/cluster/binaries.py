"""Where the node's programs are: Debian's (etcd, containerd) on the PATH, the others built from
their Go modules and cached by the project's scripts, which print their paths."""

import subprocess
from pathlib import Path

from devstack.programs import on_path
from devstack.settings import REPO_ROOT

KUBERNETES = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
)
GO_TOOLS = ("coredns", "registry")
DEBIAN = {"etcd": "etcd-server", "containerd": "containerd"}
BUILD_KUBERNETES = REPO_ROOT / "deploy" / "checks" / "build-kubernetes.sh"
BUILD_GO_TOOL = REPO_ROOT / "deploy" / "checks" / "build-go-tool.sh"


class Binaries:
    """Every program's path, found (and the missing ones built) on first use, once."""

    def __init__(self) -> None:
        self._paths: dict[str, Path] = {}

    def ensure(self) -> None:
        """Finds every program now, building what is missing (the first time, minutes)."""
        if not self._paths:
            self._paths = _find_all()

    def __getitem__(self, name: str) -> Path:
        self.ensure()
        return self._paths[name]


def _find_all() -> dict[str, Path]:
    # The Kubernetes binaries in one build, so that they share their packages.
    paths = dict(zip(KUBERNETES, _built(BUILD_KUBERNETES, *KUBERNETES), strict=True))
    paths |= dict(zip(GO_TOOLS, _built(BUILD_GO_TOOL, *GO_TOOLS), strict=True))
    return paths | {command: _installed(command, package) for command, package in DEBIAN.items()}


def _built(script: Path, *names: str) -> list[Path]:
    result = subprocess.run([str(script), *names], check=True, capture_output=True, text=True)
    return [Path(line) for line in result.stdout.split()]


def _installed(command: str, package: str) -> Path:
    advice = f"install Debian's {package} (scripts/install-system-packages.sh cluster does)"
    return Path(on_path(command, advice))
