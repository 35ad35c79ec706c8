"""Explicit topic creation (the broker's auto-create is off)."""

import asyncio
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
    bootstrap_servers: str, names: Iterable[str], partitions: int, settle: float = 10.0
) -> dict[str, int]:
    """Adds partitions to each of the existing topics `names` that has fewer than `partitions`
    (Kafka cannot take partitions away: a topic with more keeps them). Returns the topics
    grown, each with the count it had.

    A broker's metadata lags the controller for a moment: a topic created or grown just before
    may be missing or show its old count. A missing one is asked for again for up to `settle`
    seconds (then it does not exist); one that the controller already holds at `partitions` or
    more is refused as no increase, and counts as not grown."""
    from aiokafka.admin import AIOKafkaAdminClient, NewPartitions
    from aiokafka.errors import InvalidPartitionsError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        wanted, counts = list(names), {}
        deadline = asyncio.get_running_loop().time() + settle
        while True:
            described = await admin.describe_topics(wanted)
            counts = {t["topic"]: len(t["partitions"]) for t in described if t["error_code"] == 0}
            if len(counts) == len(wanted) or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.2)
        grown = {}
        for name, had in counts.items():
            if had >= partitions:
                continue
            try:
                await admin.create_partitions({name: NewPartitions(total_count=partitions)})
            except InvalidPartitionsError:
                continue  # the controller holds more already: our metadata was behind
            grown[name] = had
        return grown
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
