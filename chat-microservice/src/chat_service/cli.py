"""`chat-service migrate` and `chat-service serve [--host H] [--port P] [--workers N]`."""

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from chat_service.migrations import migrate_keyspace
from chat_service.settings import ChatSettings
from http_kit import configured_settings, run_service_command

if TYPE_CHECKING:
    from fastapi import FastAPI


def main(argv: Sequence[str] | None = None) -> None:
    run_service_command(
        argv, ChatSettings, migrate=_migrate, worker_app=worker_app, default_port=9000
    )


def _migrate(settings: ChatSettings) -> None:
    """create the keyspace and apply schema steps"""
    asyncio.run(migrate_keyspace(settings))


def worker_app() -> "FastAPI":
    """The app of one worker process: every worker, a single one included, builds its own
    (and its own Cassandra session and Kafka producer) from the same environment."""
    from chat_service.main import create_app

    return create_app(configured_settings(ChatSettings))
