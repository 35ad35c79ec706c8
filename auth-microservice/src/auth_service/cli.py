"""`auth-service migrate` and `auth-service serve [--host H] [--port P] [--workers N]`."""

from collections.abc import Sequence
from typing import TYPE_CHECKING

import structlog

from auth_service.migrate import upgrade_to_head
from auth_service.settings import AuthSettings
from http_kit import configured_settings, run_service_command

if TYPE_CHECKING:
    from fastapi import FastAPI

log = structlog.get_logger(__name__)


def main(argv: Sequence[str] | None = None) -> None:
    run_service_command(
        argv,
        AuthSettings,
        migrate=_migrate,
        worker_app=worker_app,
        default_port=8000,
        access_log=True,
    )


def _migrate(settings: AuthSettings) -> None:
    """apply database migrations (Alembic upgrade head)"""
    upgrade_to_head(settings.sqlalchemy_url)
    log.info("migrations_applied")


def worker_app() -> "FastAPI":
    """The app of one worker process."""
    from auth_service.main import create_app

    return create_app(configured_settings(AuthSettings))
