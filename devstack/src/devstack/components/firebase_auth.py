"""The Firebase Auth emulator of firebase-tools (locked in devstack/package.json)."""

import json
from pathlib import Path

from devstack.components.base import Component
from devstack.ports import free_port
from devstack.programs import install_node_packages

PACKAGE_DIR = Path(__file__).resolve().parents[3]


class FirebaseAuth(Component):
    name = "firebase-auth"
    ready_timeout = 120.0

    @property
    def firebase_cli(self) -> Path:
        return PACKAGE_DIR / "node_modules" / ".bin" / "firebase"

    def prepare(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if not self.firebase_cli.exists():
            self._install_firebase_tools()
        # The CLI's hub and logging side channels get ports of their own rather than the
        # first free one from 4400 and 4500: a second emulator suite starting beside this one
        # (a test's private stack) would pick the same port and one of them exit on
        # EADDRINUSE (the logging emulator cannot be turned off).
        config = {
            "emulators": {
                "auth": {"host": self.host, "port": self.port},
                "hub": {"host": self.host, "port": free_port()},
                "logging": {"host": self.host, "port": free_port()},
                "ui": {"enabled": False},
                "singleProjectMode": True,
            }
        }
        (self.state_dir / "firebase.json").write_text(json.dumps(config, indent=2))

    def _install_firebase_tools(self) -> None:
        self.context.progress("firebase-auth: installing firebase-tools (cached per lock file)")
        install_node_packages(PACKAGE_DIR)

    def argv(self) -> list[str]:
        return [
            str(self.firebase_cli), "emulators:start", "--only", "auth",
            "--project", self.settings.firebase_project,
            "--config", str(self.state_dir / "firebase.json"),
        ]  # fmt: skip

    @property
    def cwd(self) -> Path:
        return self.state_dir

    def check(self) -> None:
        endpoints = self.context.endpoints
        url = (
            f"http://{endpoints.firebase_auth_emulator_host}/emulator/v1/projects/"
            f"{endpoints.firebase_project}/config"
        )
        import httpx

        httpx.get(url, timeout=5).raise_for_status()
