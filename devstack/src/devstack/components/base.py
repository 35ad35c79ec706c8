"""What every piece of the stack has in common: where its files live, how it starts, how we
know it is ready, and how it stops."""

import os
import signal
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devstack.settings import REPO_ROOT, Endpoints, StackSettings


class StackError(Exception):
    """A component could not be prepared, started or reached; the text says which and why."""


@dataclass
class Context:
    settings: StackSettings
    progress: Callable[[str], None] = field(default=print)
    environment: dict[str, str] = field(default_factory=dict)
    """Variables for the project's services on top of the process's and the endpoints' (a
    test's services reaching their dependencies through proxies, say), without setting them
    for everything else the process starts."""

    @property
    def endpoints(self) -> Endpoints:
        return self.settings.endpoints


class Component(ABC):
    """One local process of the stack."""

    name: str
    stop_signal: signal.Signals = signal.SIGTERM
    grace_seconds: float = 30.0
    ready_timeout: float = 90.0
    needs_infrastructure: bool = False
    """Started only once every infrastructure piece is ready (migrations need the databases)."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.settings = context.settings

    @property
    def state_dir(self) -> Path:
        return self.settings.state_dir / self.name

    @property
    def pid_file(self) -> Path:
        return self.state_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / f"{self.name}.log"

    @property
    def host(self) -> str:
        return self.settings.host

    @property
    def port(self) -> int:
        """The port clients use: the `<name>_port` setting (`firebase-auth` reads
        `firebase_auth_port`)."""
        return int(getattr(self.settings, f"{self.name.replace('-', '_')}_port"))

    @property
    def external(self) -> bool:
        """True when the user pointed this piece at a server of their own: checked, not run."""
        return self.settings.own_server(self.name) is not None

    def prepare(self) -> None:
        """Downloads, configuration files, one-time initialisation. Must be idempotent."""

    @abstractmethod
    def argv(self) -> list[str]:
        """The command line of the long-running process."""

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    @property
    def cwd(self) -> Path:
        return REPO_ROOT

    @abstractmethod
    def check(self) -> None:
        """Raises unless the component answers a real request (a query, a round trip)."""

    def after_ready(self) -> None:
        """Work that needs the component running (databases, topics)."""
