"""`auth-service migrate` and `auth-service serve --host H --port P`."""

import argparse
import os
import signal
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING

import structlog
import uvicorn

from auth_service.migrate import upgrade_to_head
from auth_service.settings import AuthSettings
from observability import configure_logging

if TYPE_CHECKING:
    from fastapi import FastAPI

log = structlog.get_logger(__name__)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="auth-service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations (Alembic upgrade head)")
    serve = commands.add_parser("serve", help="run the HTTP API with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, help="worker processes (default: AUTH_WORKERS)")
    args = parser.parse_args(argv)

    if getattr(args, "workers", None) is not None:
        os.environ["AUTH_WORKERS"] = str(args.workers)  # seen by the workers' settings too
    settings = AuthSettings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    if args.command == "migrate":
        upgrade_to_head(settings.sqlalchemy_url)
        log.info("migrations_applied")
        return
    # uvicorn drains and runs the lifespan exit on SIGTERM/SIGINT, then re-raises the signal
    # to the handler installed before it; a no-op one makes that finished shutdown exit 0.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _after_shutdown)
    if settings.trusted_proxies == "*":
        # Any client may then pick the address its per-address limits are counted under.
        log.warning("every_peer_trusted_as_proxy", setting="AUTH_TRUSTED_PROXIES")
    uvicorn.run(
        "auth_service.cli:worker_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=settings.workers,
        # X-Forwarded-For is believed only from these peers (loopback by default); uvicorn
        # hands the same configuration to every worker process.
        forwarded_allow_ips=settings.trusted_proxies,
        proxy_headers=True,
        log_config=None,
    )


def worker_app() -> "FastAPI":
    """The app of one worker process (uvicorn starts each of several workers in a fresh
    interpreter, so logging is configured again there)."""
    from auth_service.main import create_app

    settings = AuthSettings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    return create_app(settings)


def _after_shutdown(signum: int, frame: FrameType | None) -> None:
    """Receives the signal uvicorn passes on once it has shut down: nothing left to do."""
