"""`devstack up | prepare | down | status | logs NAME | reset`: the local stack as processes."""

import argparse
import logging
import shutil
import sys
import time
from collections.abc import Sequence

from devstack import stack
from devstack.components.base import Component, Context, StackError
from devstack.processes import log_tail, running_pid
from devstack.services import SERVICES
from devstack.settings import StackSettings
from devstack.web_ui import WebUI

_EPILOG = """\
Point a piece at a server of your own (it is then checked, not started) with DATABASE_URL,
KAFKA_BOOTSTRAP_SERVERS, CASSANDRA_HOSTS, FIRESTORE_EMULATOR_HOST, FIREBASE_AUTH_EMULATOR_HOST
or REDIS_URL. Ports and folders: DEVSTACK_POSTGRES_PORT, DEVSTACK_KAFKA_PORT,
DEVSTACK_CASSANDRA_PORT, DEVSTACK_FIRESTORE_PORT, DEVSTACK_FIREBASE_AUTH_PORT,
DEVSTACK_REDIS_PORT, DEVSTACK_STATE_DIR, DEVSTACK_CACHE_DIR.
"""


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["cluster"]:
        from devstack.cluster import cli as cluster_cli

        return cluster_cli.main(argv[1:])
    args = _parser().parse_args(argv)
    # Clients log every refused connection while a piece starts; readiness is reported by us.
    for noisy in ("aiokafka", "cassandra", "kafka"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    settings = StackSettings()
    context = Context(settings, progress=_progress)
    with_services = not (args.command == "up" and args.infra)
    classes = [*stack.INFRASTRUCTURE, *(SERVICES if with_services else [])]
    components = _select(stack.build(context, classes), getattr(args, "only", None))
    try:
        return int(_COMMANDS[args.command](components, args, settings) or 0)
    except StackError as error:
        print(f"devstack: {error}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devstack",
        description=__doc__,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start what is not running and wait until it is ready")
    up.add_argument("--infra", action="store_true", help="infrastructure only, no services")
    for name in ("up", "down", "status", "prepare"):
        command = up if name == "up" else commands.add_parser(name, help=_HELP[name])
        command.add_argument("--only", help="comma-separated component names")
    logs = commands.add_parser("logs", help="print the end of one component's log")
    logs.add_argument("name")
    logs.add_argument("-n", "--lines", type=int, default=100)
    commands.add_parser("reset", help="stop everything and delete all state (keeps downloads)")
    # Parsed by devstack.cluster.cli; listed here for --help.
    commands.add_parser("cluster", help="a one-node Kubernetes cluster: up|down|status|reset")
    return parser


_HELP = {
    "down": "stop every component devstack started",
    "status": "one line per component",
    "prepare": "install and build without starting anything (e.g. `--only ui` builds the UI)",
}


def _select(components: list[Component], only: str | None) -> list[Component]:
    if not only:
        return components
    wanted = {name.strip() for name in only.split(",")}
    unknown = wanted - {component.name for component in components}
    if unknown:
        raise SystemExit(f"devstack: unknown component(s): {', '.join(sorted(unknown))}")
    return [component for component in components if component.name in wanted]


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _up(components: list[Component], _: argparse.Namespace, settings: StackSettings) -> int:
    started = time.monotonic()
    outcome = stack.up(components)
    for component in components:
        where = f"{component.host}:{component.port}"
        print(f"{component.name:<14} {outcome[component.name]:<9} {where}")
    print(f"ready in {time.monotonic() - started:.1f}s")
    for component in components:
        if isinstance(component, WebUI):
            print(f"open the chat at {component.url}")
    return 0


def _prepare(components: list[Component], _: argparse.Namespace, __: StackSettings) -> int:
    # A running piece is left alone: rebuilding under a live process (the UI's `.next`) would
    # break it. `down` first to prepare it again.
    idle = [c for c in components if not c.external and running_pid(c.pid_file) is None]
    for component in idle:
        component.prepare()
    print("prepared: " + (", ".join(component.name for component in idle) or "nothing idle"))
    return 0


def _down(components: list[Component], _: argparse.Namespace, __: StackSettings) -> int:
    stopped = stack.down(components)
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def _status(components: list[Component], _: argparse.Namespace, __: StackSettings) -> int:
    rows = stack.status(components)
    print(f"{'component':<14} {'pid':>8} {'port':>6}  healthy")
    for row in rows:
        pid = "external" if row.external else (str(row.pid) if row.pid else "-")
        health = "yes" if row.healthy else f"no  {row.detail}"
        print(f"{row.name:<14} {pid:>8} {row.port:>6}  {health}")
    return 0 if all(row.healthy for row in rows) else 3


def _logs(components: list[Component], args: argparse.Namespace, _: StackSettings) -> int:
    for component in components:
        if component.name == args.name:
            print(log_tail(component.log_file, args.lines))
            return 0
    names = ", ".join(component.name for component in components)
    raise StackError(f"no component named {args.name!r} (known: {names})")


def _reset(components: list[Component], args: argparse.Namespace, settings: StackSettings) -> int:
    _down(components, args, settings)
    shutil.rmtree(settings.state_dir, ignore_errors=True)
    print(f"removed {settings.state_dir}")
    return 0


_COMMANDS = {
    "up": _up,
    "prepare": _prepare,
    "down": _down,
    "status": _status,
    "logs": _logs,
    "reset": _reset,
}
