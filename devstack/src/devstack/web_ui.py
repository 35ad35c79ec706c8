"""The browser UI (`frontend/`, Next.js): built once per source change, served by `next start`.

The build holds nothing deployment-specific: service URLs, the Firebase project and the
emulator addresses reach the UI server through its environment at start-up, so one build
serves `make up` and every test stack. It is also kept in the cache folder under its sources'
digest, so a fresh checkout of sources built before (a CI run, a second clone) copies it
instead of spending a minute of both cores on `next build`.
"""

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from devstack.components.base import Component, StackError
from devstack.programs import NODE_ADVICE, install_node_packages, on_path
from devstack.settings import REPO_ROOT

FRONTEND_DIR = REPO_ROOT / "frontend"
# `generated` holds the API types the build makes from `openapi/*.json`, which are sources.
_NOT_SOURCES = {"node_modules", ".next", "test-results", "next-env.d.ts", "generated"}
_BUILD_MARK = ".next/devstack-source-hash"
_BUILD_DIR = FRONTEND_DIR / ".next"
_BUILDS_KEPT = 3


def source_hash(folder: Path = FRONTEND_DIR) -> str:
    """A digest of every file the build reads, so an unchanged UI is not rebuilt."""
    digest = hashlib.sha256()
    for path in sorted(_sources(folder)):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _sources(folder: Path) -> list[Path]:
    found = []
    for entry in folder.iterdir():
        if entry.name in _NOT_SOURCES:
            continue
        found.extend(_sources(entry) if entry.is_dir() else [entry])
    return found


def keep_build(build: Path, target: Path) -> None:
    """Copies a fresh build (without Next's compiler cache) to `target`, atomically (a copy
    cut short is never used), and drops all but the newest `_BUILDS_KEPT` kept builds."""
    partial = target.with_name(f"{target.name}.partial.{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(build, partial, ignore=shutil.ignore_patterns("cache"))
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    os.utime(target)  # the newest kept build, whatever its files' times
    kept = sorted(
        (path for path in target.parent.iterdir() if ".partial." not in path.name),
        key=lambda path: path.stat().st_mtime,
    )
    for old in kept[:-_BUILDS_KEPT]:
        shutil.rmtree(old, ignore_errors=True)


class WebUI(Component):
    name = "ui"
    needs_infrastructure = True
    ready_timeout = 60.0
    grace_seconds = 10.0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def cwd(self) -> Path:
        return FRONTEND_DIR

    def prepare(self) -> None:
        if not (FRONTEND_DIR / "node_modules" / "next").is_dir():
            self.context.progress("ui: installing npm dependencies (cached per lock file)")
            install_node_packages(FRONTEND_DIR)
        wanted = source_hash()
        mark = FRONTEND_DIR / _BUILD_MARK
        if mark.exists() and mark.read_text() == wanted:
            return
        cached = self.settings.cache_dir / "ui-builds" / wanted
        if (cached / "BUILD_ID").is_file():
            self.context.progress("ui: copying the build of these sources from the cache")
            shutil.rmtree(_BUILD_DIR, ignore_errors=True)
            shutil.copytree(cached, _BUILD_DIR)
        else:
            self.context.progress("ui: building the web UI (next build)")
            self._npm("run", "build")
            keep_build(_BUILD_DIR, cached)
        mark.write_text(wanted)

    def _npm(self, *args: str) -> None:
        npm = on_path("npm", NODE_ADVICE)
        result = subprocess.run(
            [npm, *args], cwd=FRONTEND_DIR, env=self._build_env(),
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            output = (result.stdout + result.stderr)[-3000:]
            raise StackError(f"ui: `npm {' '.join(args)}` failed:\n{output}")

    def _build_env(self) -> dict[str, str]:
        return {**os.environ, "NEXT_TELEMETRY_DISABLED": "1"}

    def argv(self) -> list[str]:
        node = on_path("node", "install Node.js 20 or newer.")
        next_cli = FRONTEND_DIR / "node_modules" / "next" / "dist" / "bin" / "next"
        return [node, str(next_cli), "start", "--hostname", self.host, "--port", str(self.port)]

    def env(self) -> dict[str, str]:
        """Where the UI's proxy and the browser find the services, Firestore and Firebase Auth.

        Variables already set win, so a test stack can point the UI at its own services.
        """
        settings, endpoints = self.settings, self.context.endpoints
        environment = self._build_env()
        defaults = {
            "UI_AUTH_SERVICE_URL": f"http://{self.host}:{settings.auth_port}",
            "UI_CHAT_SERVICE_URL": f"http://{self.host}:{settings.chat_port}",
            "UI_FIREBASE_PROJECT_ID": endpoints.firebase_project,
            "UI_FIRESTORE_EMULATOR_HOST": endpoints.firestore_emulator_host,
            "UI_FIREBASE_AUTH_EMULATOR_HOST": endpoints.firebase_auth_emulator_host,
        }
        for name, value in defaults.items():
            environment.setdefault(name, value)
        return environment

    def check(self) -> None:
        import httpx

        httpx.get(f"{self.url}/ui-config", timeout=5).raise_for_status()
        httpx.get(f"{self.url}/login", timeout=10).raise_for_status()
