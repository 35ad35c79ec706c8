import pytest

from auth_validator import JwtSettings
from chat_service.database import connect
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


def test_migrate_creates_keyspace_and_schema_once(
    stack: Endpoints, fresh_keyspace: str, jwt_settings: JwtSettings
) -> None:
    settings = ChatSettings(
        app_env="test",
        jwt=jwt_settings,
        cassandra_hosts=stack.cassandra_hosts,
        keyspace=fresh_keyspace,
        replication={"class": "SimpleStrategy", "replication_factor": 1},
    )
    cluster, session = connect(settings)
    try:
        assert migrate(session, settings) == [step.version for step in STEPS]
        assert migrate(session, settings) == []
        assert applied_versions(session) == {step.version for step in STEPS}
        tables = {
            row["table_name"]
            for row in session.execute(
                "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s",
                (fresh_keyspace,),
            )
        }
        assert tables == TABLES
        replication = session.execute(
            "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = %s",
            (fresh_keyspace,),
        ).one()["replication"]
        assert replication["replication_factor"] == "1"
        assert replication["class"].endswith("SimpleStrategy")
        # A new keyspace held no claim: nothing tells the send gate to read old ones.
        assert list(session.execute("SELECT store FROM claim_stores")) == []
    finally:
        cluster.shutdown()


def test_an_upgraded_keyspace_has_its_older_claims_read_for_a_window(
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
    cluster, session = connect(settings)
    try:
        monkeypatch.setattr(runner, "STEPS", STEPS[:3])  # the keyspace of an older version
        migrate(session, settings)
        monkeypatch.undo()
        assert migrate(session, settings) == [4, 5]
        [row] = session.execute("SELECT store, seen FROM claim_stores")
        assert row["store"] == "*"
        assert row["seen"] is not None
    finally:
        cluster.shutdown()
