"""The command line every HTTP service offers, `<service> migrate` and `<service> serve
[--host H] [--port P] [--workers N]`, with the same settings, logging and serving."""

import argparse
import inspect
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import structlog

from http_kit.serving import serve
from http_kit.settings import HttpServiceSettings
from observability import configure_logging

if TYPE_CHECKING:
    from fastapi import FastAPI

log = structlog.get_logger(__name__)


SettingsT = TypeVar("SettingsT", bound=HttpServiceSettings)


def configured_settings(settings: type[SettingsT]) -> SettingsT:
    """The settings read from the environment, and logging configured by them. A worker's
    app factory calls it too: uvicorn starts each of several workers in a fresh interpreter."""
    loaded = settings()
    configure_logging(json=loaded.log_json, level=loaded.log_level)
    return loaded


def run_service_command(
    argv: Sequence[str] | None,
    settings: type[SettingsT],
    *,
    migrate: Callable[[SettingsT], None],
    worker_app: "Callable[[], FastAPI]",
    default_port: int,
    access_log: bool = False,
) -> None:
    """Parses `<name>-service migrate` or `<name>-service serve` (the name is the settings'
    `service_name()`), reads the settings from the environment (`--workers N` sets the
    settings' `<prefix>WORKERS` first, so that every worker reads the same number), configures
    logging and runs the command: `migrate(settings)` (its docstring is the command's help), or
    `serve` of the app that `worker_app`, a module-level function, builds in each worker (uvicorn
    imports it by name in every worker process). A settings error or a crash ends the process
    non-zero; a bad argument exits with status 2."""
    prog = f"{settings.service_name()}-service"
    description = f"`{prog} migrate` and `{prog} serve [--host H] [--port P] [--workers N]`."
    parser = argparse.ArgumentParser(prog=prog, description=description)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help=inspect.getdoc(migrate))
    serve_command = commands.add_parser("serve", help="run the HTTP API under uvicorn")
    serve_command.add_argument("--host", default="127.0.0.1")
    serve_command.add_argument("--port", type=int, default=default_port)
    serve_command.add_argument(
        "--workers", type=int, help="worker processes (default: <PREFIX>WORKERS)"
    )
    options = parser.parse_args(argv)
    env_prefix = str(settings.model_config.get("env_prefix", ""))

    if getattr(options, "workers", None) is not None:
        os.environ[f"{env_prefix}WORKERS"] = str(options.workers)
    loaded = configured_settings(settings)
    if options.command == "migrate":
        migrate(loaded)
        return
    serve(
        f"{worker_app.__module__}:{worker_app.__qualname__}",
        host=options.host,
        port=options.port,
        workers=loaded.workers,
        trusted_proxies=loaded.trusted_proxies,
        proxies_setting=f"{env_prefix}TRUSTED_PROXIES",
        access_log=access_log,
    )
    log.info("server_stopped", service=prog)
