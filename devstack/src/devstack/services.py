"""The project's own services, started by `devstack up` once the infrastructure is ready."""

import os
import subprocess
import sys
from pathlib import Path

from devstack.components.base import Component, StackError
from devstack.web_ui import WebUI

# The workspace's console scripts sit next to the interpreter that runs devstack.
_SCRIPTS = Path(sys.executable).parent


class Service(Component):
    """A service started from its console script, after its migration step if it has one."""

    script: str
    migrates: bool = False
    ready_path: str
    needs_infrastructure = True
    grace_seconds = 20.0
    ready_timeout = 60.0

    def env(self) -> dict[str, str]:
        environment = {
            **os.environ, **self.context.endpoints.as_environment(), **self.context.environment,
        }  # fmt: skip
        environment.setdefault("APP_ENV", "development")
        return environment

    def prepare(self) -> None:
        if not (_SCRIPTS / self.script).exists():
            raise StackError(f"{self.name}: `{self.script}` is not installed; run `make install`")
        if not self.migrates:
            return
        self.context.progress(f"{self.name}: applying migrations")
        result = subprocess.run(
            [str(_SCRIPTS / self.script), "migrate"],
            env=self.env(), cwd=self.cwd, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            output = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
            raise StackError(f"{self.name}: `{self.script} migrate` failed:\n{output}")

    def check(self) -> None:
        url = f"http://{self.host}:{self.port}{self.ready_path}"
        import httpx

        httpx.get(url, timeout=5).raise_for_status()


class HttpService(Service):
    """An HTTP API: migrated first, then served on its port. Its command is `<name>-service`
    and it answers readiness under its prefix `/<name>/api` (docs/architecture.md, "Names")."""

    migrates = True

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls.script = f"{cls.name}-service"
        cls.ready_path = f"/{cls.name}/api/ready/"

    def argv(self) -> list[str]:
        return [str(_SCRIPTS / self.script), "serve", "--host", self.host, "--port", str(self.port)]


class StreamService(Service):
    """A stream process: `run`, with its probe server on the port `port_variable` names."""

    ready_path = "/ready"
    port_variable: str

    def env(self) -> dict[str, str]:
        return {**super().env(), self.port_variable: str(self.port)}

    def argv(self) -> list[str]:
        return [str(_SCRIPTS / self.script), "run"]


class AuthService(HttpService):
    name = "auth"


class ChatService(HttpService):
    name = "chat"

    def env(self) -> dict[str, str]:
        auth = f"http://{self.host}:{self.settings.auth_port}"
        return {**super().env(), "CHAT_AUTH_SERVICE_URL": auth}


class Aggregator(StreamService):
    name = "aggregator"
    script = "aggregator"
    port_variable = "AGGREGATOR_HTTP_PORT"


class AggregatedConsumer(StreamService):
    name = "consumer"
    script = "aggregated-consumer"
    port_variable = "AGGREGATED_CONSUMER_HTTP_PORT"


BACKEND: list[type[Component]] = [AuthService, ChatService, Aggregator, AggregatedConsumer]
"""The four services behind the HTTP APIs and the pipeline."""
SERVICES: list[type[Component]] = [*BACKEND, WebUI]
"""Everything of the project's own that `devstack up` starts once the infrastructure is ready."""
