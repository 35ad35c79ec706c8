from chat_service.database import connect
from chat_service.migrations import STEPS, applied_versions, migrate
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


def test_migrate_creates_keyspace_and_schema_once(stack: Endpoints, fresh_keyspace: str) -> None:
    settings = ChatSettings(
        app_env="test",
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
    finally:
        cluster.shutdown()
