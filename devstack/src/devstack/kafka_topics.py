"""Explicit topic creation (the broker's auto-create is off)."""

import contextlib
from collections.abc import Iterable


async def create_topics(
    bootstrap_servers: str, names: Iterable[str], partitions: int, replication_factor: int = 1
) -> None:
    """Creates each missing topic; existing ones are left as they are."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, num_partitions=partitions, replication_factor=replication_factor)
            for name in names
            if name not in existing
        ]
        if wanted:
            # Another process may create one between the listing and this call.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(wanted)
    finally:
        await admin.close()


async def grow_topics(
    bootstrap_servers: str, names: Iterable[str], partitions: int
) -> dict[str, int]:
    """Adds partitions to each of the existing topics `names` that has fewer than `partitions`
    (Kafka cannot take partitions away: a topic with more keeps them). Returns the topics
    grown, each with the count it had."""
    from aiokafka.admin import AIOKafkaAdminClient, NewPartitions
    from aiokafka.errors import for_code

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics(list(names))
        had = {
            topic["topic"]: len(topic["partitions"])
            for topic in described
            if topic["error_code"] == 0 and len(topic["partitions"]) < partitions
        }
        if had:
            response = await admin.create_partitions(
                {name: NewPartitions(total_count=partitions) for name in had}
            )
            for name, code, message in response.topic_errors:
                if code:
                    raise for_code(code)(f"{name}: {message}")
        return had
    finally:
        await admin.close()


async def delete_topics(bootstrap_servers: str, names: Iterable[str]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        await admin.delete_topics(list(names))
    finally:
        await admin.close()
