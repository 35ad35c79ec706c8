"""`chat-service migrate` and `chat-service serve --host H --port P`."""

import argparse
import sys
from typing import TYPE_CHECKING

import structlog

from chat_service.database import connect
from chat_service.migrations import migrate
from chat_service.settings import ChatSettings
from http_kit import serve
from observability import configure_logging

if TYPE_CHECKING:
    from fastapi import FastAPI

log = structlog.get_logger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chat-service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create the keyspace and apply schema steps")
    serve_command = commands.add_parser("serve", help="run the HTTP API")
    serve_command.add_argument("--host", default="127.0.0.1")
    serve_command.add_argument("--port", type=int, default=9000)
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
    # Every worker, a single one included, builds its own app (and its own Cassandra session
    # and Kafka producer) from the same environment.
    serve(
        "chat_service.cli:worker_app",
        host=host,
        port=port,
        workers=settings.workers,
        trusted_proxies=settings.trusted_proxies,
        proxies_setting="CHAT_TRUSTED_PROXIES",
    )
    log.info("chat_service_stopped")
    return 0


def worker_app() -> "FastAPI":
    """The app of one worker process (with several, uvicorn starts each in a fresh
    interpreter, so logging is configured again there)."""
    from chat_service.main import create_app

    settings = ChatSettings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    return create_app(settings)


if __name__ == "__main__":
    sys.exit(main())
