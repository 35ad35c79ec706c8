"""The schema, as an ordered list of steps. Append new steps; never edit an applied one.

Each statement is idempotent (`IF NOT EXISTS`) so a step interrupted half-way can simply run
again.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    version: int
    description: str
    statements: tuple[str, ...]
    # Run after `statements` only in a keyspace that had steps applied before this run (data
    # written by an older version), never in a new one.
    when_upgrading: tuple[str, ...] = ()


STEPS: tuple[Step, ...] = (
    Step(
        1,
        "chats, per-user chat lists, bucketed messages, bucket index, idempotency keys",
        (
            """CREATE TABLE IF NOT EXISTS chats (
                chat_id uuid PRIMARY KEY,
                users_id list<text>,
                users_name list<text>,
                created_at timestamp
            )""",
            # One partition per user: "my chats" is a single-partition read. last_activity
            # is updated on every send so the list can be ordered by it.
            """CREATE TABLE IF NOT EXISTS chats_by_user (
                user_id text,
                chat_id uuid,
                users_id list<text>,
                users_name list<text>,
                created_at timestamp,
                last_activity timestamp,
                PRIMARY KEY (user_id, chat_id)
            )""",
            """CREATE TABLE IF NOT EXISTS chat_buckets (
                chat_id uuid,
                bucket int,
                PRIMARY KEY (chat_id, bucket)
            ) WITH CLUSTERING ORDER BY (bucket DESC)""",
            """CREATE TABLE IF NOT EXISTS messages (
                chat_id uuid,
                bucket int,
                time timeuuid,
                message_id uuid,
                from_user text,
                to_user text,
                body text,
                client_message_id text,
                PRIMARY KEY ((chat_id, bucket), time)
            ) WITH CLUSTERING ORDER BY (time DESC)""",
            # `published` records the Kafka ack, so a repeated send re-publishes only a
            # message whose first publish failed.
            """CREATE TABLE IF NOT EXISTS message_ids (
                chat_id uuid,
                client_message_id text,
                time timeuuid,
                bucket int,
                published boolean,
                PRIMARY KEY ((chat_id, client_message_id))
            )""",
        ),
    ),
    Step(
        2,
        "the latest message of each chat in the per-user chat lists",
        tuple(
            f"ALTER TABLE chats_by_user ADD IF NOT EXISTS {column}"
            for column in (
                "last_message_id uuid",
                "last_message_time timeuuid",
                "last_message_from text",
                "last_message_body text",
            )
        ),
    ),
    Step(
        3,
        "edits, deletions and read marks: the message's current state and each member's mark",
        tuple(
            f"ALTER TABLE {table} ADD IF NOT EXISTS {column}"
            for table, column in (
                ("messages", "edited_at timestamp"),
                ("messages", "deleted boolean"),
                ("messages", "revision timeuuid"),
                ("chats_by_user", "read_up_to timeuuid"),
            )
        ),
    ),
    Step(
        4,
        "where each Redis of idempotency claims last took one (see messages/send_gate.py)",
        (
            """CREATE TABLE IF NOT EXISTS claim_stores (
                store text PRIMARY KEY,
                seen timestamp
            )""",
        ),
    ),
    Step(
        5,
        "the claims' durable copy is the message row itself, found by its key in its bucket",
        (
            """CREATE INDEX IF NOT EXISTS messages_by_client_message_id
                ON messages (client_message_id) USING 'sai'""",
        ),
        # Claims taken before claim_stores existed were lightweight transactions: the first
        # window after the upgrade reads them (store '*' stands for every store).
        when_upgrading=("INSERT INTO claim_stores (store, seen) VALUES ('*', toTimestamp(now()))",),
    ),
)
