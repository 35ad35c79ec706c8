"""`auth-service migrate` and `auth-service serve --host H --port P`."""

import argparse
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import structlog

from auth_service.migrate import upgrade_to_head
from auth_service.settings import AuthSettings
from http_kit import serve
from observability import configure_logging

if TYPE_CHECKING:
    from fastapi import FastAPI

log = structlog.get_logger(__name__)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="auth-service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations (Alembic upgrade head)")
    serve_command = commands.add_parser("serve", help="run the HTTP API with uvicorn")
    serve_command.add_argument("--host", default="127.0.0.1")
    serve_command.add_argument("--port", type=int, default=8000)
    serve_command.add_argument(
        "--workers", type=int, help="worker processes (default: AUTH_WORKERS)"
    )
    args = parser.parse_args(argv)

    if getattr(args, "workers", None) is not None:
        os.environ["AUTH_WORKERS"] = str(args.workers)  # seen by the workers' settings too
    settings = AuthSettings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    if args.command == "migrate":
        upgrade_to_head(settings.sqlalchemy_url)
        log.info("migrations_applied")
        return
    serve(
        "auth_service.cli:worker_app",
        host=args.host,
        port=args.port,
        workers=settings.workers,
        trusted_proxies=settings.trusted_proxies,
        proxies_setting="AUTH_TRUSTED_PROXIES",
        access_log=True,
    )


def worker_app() -> "FastAPI":
    """The app of one worker process (uvicorn starts each of several workers in a fresh
    interpreter, so logging is configured again there)."""
    from auth_service.main import create_app

    settings = AuthSettings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    return create_app(settings)
