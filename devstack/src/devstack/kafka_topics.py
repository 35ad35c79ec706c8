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


async def delete_topics(bootstrap_servers: str, names: Iterable[str]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        await admin.delete_topics(list(names))
    finally:
        await admin.close()
