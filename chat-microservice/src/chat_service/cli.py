"""`chat-service migrate` and `chat-service serve --host H --port P`."""

import argparse
import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING

import structlog
import uvicorn

from chat_service.database import connect
from chat_service.migrations import migrate
from chat_service.settings import ChatSettings
from observability import configure_logging

if TYPE_CHECKING:
    from fastapi import FastAPI

log = structlog.get_logger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chat-service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create the keyspace and apply schema steps")
    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=9000)
    args = parser.parse_args(argv)

    settings = ChatSettings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    if args.command == "migrate":
        return _migrate(settings)
    return _serve(settings, args.host, args.port)


def _migrate(settings: ChatSettings) -> int:
    cluster, session = connect(settings)
    try:
        migrate(session, settings)
    finally:
        cluster.shutdown()
    return 0


def _serve(settings: ChatSettings, host: str, port: int) -> int:
    from chat_service.main import create_app

    # uvicorn handles SIGINT/SIGTERM: it stops accepting, drains, then runs the lifespan exit.
    # Afterwards it re-raises the signal to the handler that was installed before it; a
    # no-op one makes the finished shutdown exit with status 0 instead of dying by signal.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _after_shutdown)
    # Several workers share the listening socket; each builds its own app (and its own
    # Cassandra session and Kafka producer) from the same environment.
    app = create_app(settings) if settings.workers == 1 else "chat_service.cli:worker_app"
    if settings.trusted_proxies == "*":
        log.warning("every_peer_trusted_as_proxy", setting="CHAT_TRUSTED_PROXIES")
    uvicorn.run(
        app,
        factory=settings.workers > 1,
        workers=settings.workers,
        host=host,
        port=port,
        # X-Forwarded-For is believed only from these peers (loopback by default), in the
        # single process as in every worker.
        forwarded_allow_ips=settings.trusted_proxies,
        log_config=None,
        access_log=False,
    )
    log.info("chat_service_stopped")
    return 0


def worker_app() -> "FastAPI":
    """The app of one worker process, when uvicorn starts several (each in a fresh
    interpreter, so logging is configured again)."""
    from chat_service.main import create_app

    settings = ChatSettings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    return create_app(settings)


def _after_shutdown(signum: int, frame: FrameType | None) -> None:
    """Receives the signal uvicorn passes on once it has shut down: nothing left to do."""


if __name__ == "__main__":
    sys.exit(main())
