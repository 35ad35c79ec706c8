"""Applies the schema steps a keyspace has not seen yet, recording each in `schema_version`.

Runs from the `chat-service migrate` command (blocking driver calls are fine there). Two
concurrent runs are harmless: every statement is idempotent, and both record the same version.
"""

import json
from datetime import UTC, datetime
from typing import Any

import structlog
from cassandra.cluster import Session

from chat_service.migrations.steps import STEPS, Step
from chat_service.settings import ChatSettings

log = structlog.get_logger(__name__)

_SCHEMA_VERSION = """CREATE TABLE IF NOT EXISTS schema_version (
    version int PRIMARY KEY,
    description text,
    applied_at timestamp
)"""


def replication_cql(replication: dict[str, Any]) -> str:
    """The replication map as a CQL literal; CQL wants single-quoted strings."""
    pairs = ", ".join(f"'{key}': '{value}'" for key, value in replication.items())
    if any("'" in str(item) for pair in replication.items() for item in pair):
        raise ValueError(
            f"quotes are not allowed in the replication map: {json.dumps(replication)}"
        )
    return "{" + pairs + "}"


def migrate(session: Session, settings: ChatSettings) -> list[int]:
    """Creates the keyspace if needed and applies missing steps; returns the versions applied."""
    timeout = settings.cassandra_timeout.total_seconds() * 6
    session.execute(
        f"CREATE KEYSPACE IF NOT EXISTS {settings.keyspace} "
        f"WITH replication = {replication_cql(settings.replication)}",
        timeout=timeout,
    )
    session.set_keyspace(settings.keyspace)
    session.execute(_SCHEMA_VERSION, timeout=timeout)
    done = applied_versions(session)
    applied = []
    for step in STEPS:
        if step.version not in done:
            _apply(session, step, timeout, upgrading=bool(done))
            applied.append(step.version)
    log.info("cassandra_migrated", keyspace=settings.keyspace, applied=applied)
    return applied


def applied_versions(session: Session) -> set[int]:
    return {row["version"] for row in session.execute("SELECT version FROM schema_version")}


def _apply(session: Session, step: Step, timeout: float, *, upgrading: bool) -> None:
    for statement in step.statements + (step.when_upgrading if upgrading else ()):
        session.execute(statement, timeout=timeout)
    session.execute(
        # A plain write: a concurrent run records the same version, and a lightweight
        # transaction would need a quorum of replicas just to migrate.
        "INSERT INTO schema_version (version, description, applied_at) VALUES (%s, %s, %s)",
        (step.version, step.description, datetime.now(UTC)),
        timeout=timeout,
    )
    log.info("cassandra_step_applied", version=step.version, description=step.description)
