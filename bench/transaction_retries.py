"""Why an aggregator on one healthy broker sees `NotEnoughReplicasError` retries.

Runs back-to-back Kafka transactions the way the aggregator does (records to three partitions,
then the consumed offsets, then the commit) against the running broker, with the broker's
transaction verification (`transaction.partition.verification.enable`, KIP-890 part 1) on and
then off, and with and without offsets in each transaction. Counts the produce answers the
client retried as `NotEnoughReplicasError`. The setting is changed on the broker for the run
(a dynamic broker setting) and put back to `true` at the end, whatever happens.

The baseline is the aggregator's own case: verification on, offsets in every transaction.

    uv run python bench/transaction_retries.py [--seconds 20] [--node-id 1]
"""

import argparse
import asyncio
import logging
import time
import uuid
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.structs import OffsetAndMetadata, TopicPartition
from harness import write_result

from devstack.settings import StackSettings

_VERIFICATION = "transaction.partition.verification.enable"


class _RetryCounter(logging.Handler):
    """Counts aiokafka's "retrying ... NotEnoughReplicasError" warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "NotEnoughReplicasError" in record.getMessage():
            self.count += 1


async def _set_verification(admin: AIOKafkaAdminClient, node_id: str, on: bool) -> None:
    resource = ConfigResource(ConfigResourceType.BROKER, node_id, {_VERIFICATION: str(on).lower()})
    await admin.alter_configs([resource])


async def _transactions(bootstrap: str, topic: str, seconds: float, offsets: bool) -> int:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        transactional_id=f"bench-{uuid.uuid4()}",
        enable_idempotence=True,
        acks="all",
    )
    group = f"bench-{uuid.uuid4()}"
    await producer.start()
    done = 0
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await producer.begin_transaction()
            for partition in range(3):
                await producer.send(topic, b"x", partition=partition)
            if offsets:
                tp = TopicPartition(topic, 0)
                await producer.send_offsets_to_transaction({tp: OffsetAndMetadata(done, "")}, group)
            await producer.commit_transaction()
            done += 1
    finally:
        await producer.stop()
    return done


async def main(seconds: float, node_id: str) -> None:
    bootstrap = StackSettings().endpoints.kafka_bootstrap_servers
    counter = _RetryCounter()
    logging.getLogger("aiokafka").addHandler(counter)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    topic = f"bench-verification-{uuid.uuid4().hex[:8]}"
    await admin.create_topics([NewTopic(topic, 3, 1)])
    rows: list[dict[str, Any]] = []
    try:
        for verification, offsets in [(True, True), (False, True), (True, False), (False, False)]:
            await _set_verification(admin, node_id, verification)
            await asyncio.sleep(1)  # the broker applies a dynamic setting asynchronously
            counter.count = 0
            done = await _transactions(bootstrap, topic, seconds, offsets)
            rows.append(
                {
                    "verification": verification,
                    "offsets_in_transaction": offsets,
                    "transactions_per_s": done / seconds,
                    "retries": counter.count,
                    "retries_per_1000_transactions": 1000 * counter.count / max(done, 1),
                }
            )
    finally:
        await _set_verification(admin, node_id, True)
        await admin.delete_topics([topic])
        await admin.close()
    base = rows[0]["transactions_per_s"]
    print(
        f"{'verification':>12} {'offsets':>8} {'txn/s':>7} {'vs base':>8} {'NER retries':>12}"
        f" {'per 1000 txn':>13}"
    )
    for row in rows:
        print(
            f"{row['verification']!s:>12} {row['offsets_in_transaction']!s:>8}"
            f" {row['transactions_per_s']:7.0f} {row['transactions_per_s'] / base:7.2f}x"
            f" {row['retries']:12d} {row['retries_per_1000_transactions']:13.1f}"
        )
    write_result("transaction_retries", {"seconds": seconds, "rows": rows})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--node-id", default="1", help="the broker's node.id")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.node_id))
