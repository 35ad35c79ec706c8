import acsylla
import pytest

from auth_validator import JwtSettings
from chat_service.database import Row, Session, connect
from chat_service.migrations import STEPS, applied_versions, migrate, runner
from chat_service.settings import ChatSettings
from devstack.settings import Endpoints

TABLES = {
    "chats",
    "chats_by_user",
    "chat_buckets",
    "messages",
    "message_ids",
    "claim_stores",
    "schema_version",
}


async def _rows(session: Session, query: str, *params: object) -> list[Row]:
    statement = acsylla.create_statement(query, parameters=list(params) or None)
    return [row.as_dict() for row in await session.execute(statement)]


async def test_migrate_creates_keyspace_and_schema_once(
    stack: Endpoints, fresh_keyspace: str, jwt_settings: JwtSettings
) -> None:
    settings = ChatSettings(
        app_env="test",
        jwt=jwt_settings,
        cassandra_hosts=stack.cassandra_hosts,
        keyspace=fresh_keyspace,
        replication={"class": "SimpleStrategy", "replication_factor": 1},
    )
    session = await connect(settings)
    try:
        assert await migrate(session, settings) == [step.version for step in STEPS]
        assert await migrate(session, settings) == []
        assert await applied_versions(session) == {step.version for step in STEPS}
        tables = {
            row["table_name"]
            for row in await _rows(
                session,
                "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?",
                fresh_keyspace,
            )
        }
        assert tables == TABLES
        [keyspace] = await _rows(
            session,
            "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?",
            fresh_keyspace,
        )
        replication = keyspace["replication"]
        assert replication["replication_factor"] == "1"
        assert replication["class"].endswith("SimpleStrategy")
        # A new keyspace held no claim: nothing tells the send gate to read old ones.
        assert await _rows(session, "SELECT store FROM claim_stores") == []
    finally:
        await session.close()


async def test_an_upgraded_keyspace_has_its_older_claims_read_for_a_window(
    stack: Endpoints,
    fresh_keyspace: str,
    jwt_settings: JwtSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = ChatSettings(
        app_env="test",
        jwt=jwt_settings,
        cassandra_hosts=stack.cassandra_hosts,
        keyspace=fresh_keyspace,
    )
    session = await connect(settings)
    try:
        monkeypatch.setattr(runner, "STEPS", STEPS[:3])  # the keyspace of an older version
        await migrate(session, settings)
        monkeypatch.undo()
        assert await migrate(session, settings) == [4, 5]
        [row] = await _rows(session, "SELECT store, seen FROM claim_stores")
        assert row["store"] == "*"
        assert row["seen"] is not None
    finally:
        await session.close()
