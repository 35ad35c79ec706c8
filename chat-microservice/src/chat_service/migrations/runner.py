"""Applies the schema steps a keyspace has not seen yet, recording each in `schema_version`.

Runs from the `chat-service migrate` command. Two concurrent runs are harmless: every
statement is idempotent, and both record the same version. The driver waits for the schema to
agree across nodes after each change.
"""

import json
from datetime import UTC, datetime
from typing import Any

import acsylla
import structlog

from chat_service.database import Session, connect
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


async def migrate_keyspace(settings: ChatSettings) -> list[int]:
    """`migrate` on a session of its own (what `chat-service migrate` runs)."""
    session = await connect(settings)
    try:
        return await migrate(session, settings)
    finally:
        await session.close()


async def migrate(session: Session, settings: ChatSettings) -> list[int]:
    """Creates the keyspace if needed and applies missing steps; returns the versions applied."""
    timeout = settings.cassandra_timeout.total_seconds() * 6
    await _run(
        session,
        f"CREATE KEYSPACE IF NOT EXISTS {settings.keyspace} "
        f"WITH replication = {replication_cql(settings.replication)}",
        timeout,
    )
    await session.use_keyspace(settings.keyspace)
    await _run(session, _SCHEMA_VERSION, timeout)
    done = await applied_versions(session)
    # A plain write: a concurrent run records the same version, and a lightweight
    # transaction would need a quorum of replicas just to migrate.
    record = await session.create_prepared(
        "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
        timeout=timeout,
    )
    applied = []
    for step in STEPS:
        if step.version not in done:
            await _apply(session, step, record, timeout, upgrading=bool(done))
            applied.append(step.version)
    log.info("cassandra_migrated", keyspace=settings.keyspace, applied=applied)
    return applied


async def applied_versions(session: Session) -> set[int]:
    result = await session.execute(acsylla.create_statement("SELECT version FROM schema_version"))
    return {row.as_dict()["version"] for row in result}


async def _run(session: Session, statement: str, time_limit: float) -> None:
    await session.execute(acsylla.create_statement(statement, timeout=time_limit))


async def _apply(
    session: Session, step: Step, record: Any, time_limit: float, *, upgrading: bool
) -> None:
    for statement in step.statements + (step.when_upgrading if upgrading else ()):
        await _run(session, statement, time_limit)
    await session.execute(
        record.bind([step.version, step.description, datetime.now(UTC)], timeout=time_limit)
    )
    log.info("cassandra_step_applied", version=step.version, description=step.description)
