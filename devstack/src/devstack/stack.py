"""Bringing the components up, checking them, and taking them down again."""

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from devstack import processes
from devstack.components.base import Component, Context, StackError
from devstack.components.cassandra import Cassandra
from devstack.components.firebase_auth import FirebaseAuth
from devstack.components.firestore import Firestore
from devstack.components.kafka import Kafka
from devstack.components.postgres import Postgres
from devstack.components.redis import Redis
from devstack.health import port_open

INFRASTRUCTURE: list[type[Component]] = [Postgres, Redis, Firestore, FirebaseAuth, Kafka, Cassandra]
_PROGRESS_EVERY = 15.0


@dataclass
class ComponentStatus:
    name: str
    pid: int | None
    port: int
    healthy: bool
    external: bool
    detail: str = ""


def build(context: Context, classes: Sequence[type[Component]]) -> list[Component]:
    return [cls(context) for cls in classes]


def up(components: Sequence[Component]) -> dict[str, str]:
    """Starts what is not running, then waits for each piece; returns {name: what happened}.

    The infrastructure starts all at once (its pieces do not need each other); the services
    follow once it is ready, since their migrations talk to it.
    """
    outcome: dict[str, str] = {}
    for needs_infrastructure in (False, True):
        phase = [c for c in components if c.needs_infrastructure is needs_infrastructure]
        outcome |= {component.name: _start_or_reuse(component) for component in phase}
        for component in phase:
            _wait_ready(component)
            component.after_ready()
    return outcome


def _start_or_reuse(component: Component) -> str:
    if component.external:
        return "external"
    if processes.running_pid(component.pid_file) is not None:
        return "reused"
    if port_open(component.host, component.port):
        raise StackError(
            f"{component.name}: port {component.host}:{component.port} is taken by a process "
            "devstack did not start. Stop it, or point the matching setting at it "
            "(see `devstack --help`)."
        )
    component.prepare()
    component.state_dir.mkdir(parents=True, exist_ok=True)
    processes.spawn(
        component.argv(),
        pid_file=component.pid_file,
        log_file=component.log_file,
        env=component.env(),
        cwd=component.cwd,
    )
    return "started"


def _wait_ready(component: Component) -> None:
    started = time.monotonic()
    last_report = started
    last_error: Exception | None = None
    while time.monotonic() - started < component.ready_timeout:
        try:
            component.check()
            return
        except Exception as error:  # any failure means "not yet"; the last one is reported
            last_error = error
        if not component.external and processes.running_pid(component.pid_file) is None:
            raise StackError(
                f"{component.name} exited during start-up. Last lines of "
                f"{component.log_file}:\n{processes.log_tail(component.log_file)}"
            )
        if time.monotonic() - last_report >= _PROGRESS_EVERY:
            last_report = time.monotonic()
            elapsed = int(last_report - started)
            component.context.progress(f"{component.name}: waiting for readiness ({elapsed}s)")
        time.sleep(1.0)
    raise StackError(
        f"{component.name} not ready after {component.ready_timeout:.0f}s "
        f"(last error: {last_error}). Last lines of {component.log_file}:\n"
        f"{processes.log_tail(component.log_file)}"
    )


def down(components: Sequence[Component]) -> list[str]:
    """Stops every running component, newest first, in parallel; returns the names stopped."""
    stopped: list[str] = []

    def stop_one(component: Component) -> None:
        if processes.stop(
            component.pid_file,
            stop_signal=component.stop_signal,
            grace_seconds=component.grace_seconds,
        ):
            stopped.append(component.name)

    threads = [threading.Thread(target=stop_one, args=(c,)) for c in reversed(components)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return stopped


def status(components: Sequence[Component]) -> list[ComponentStatus]:
    rows = []
    for component in components:
        pid = None if component.external else processes.running_pid(component.pid_file)
        try:
            component.check()
            healthy, detail = True, ""
        except Exception as error:  # status reports any failure as "unhealthy"
            healthy, detail = False, str(error).splitlines()[0][:80] if str(error) else ""
        rows.append(
            ComponentStatus(
                component.name, pid, component.port, healthy, component.external, detail
            )
        )
    return rows
