"""The publisher's partitioner: a chat's events keep the partition Kafka's own clients give
its key, whatever the topic's size and however often the chat is seen."""

import uuid

import pytest
from aiokafka.partitioner import DefaultPartitioner

from chat_service.messages.publisher import partition_of


@pytest.mark.parametrize("partitions", [1, 6, 24, 25])
def test_a_chat_goes_to_the_partition_kafkas_default_partitioner_gives_it(partitions: int) -> None:
    every = list(range(partitions))
    keys = [str(uuid.uuid4()).encode() for _ in range(2_000)]
    for key in keys + keys:  # the second time from the cache
        assert partition_of(key, every, every) == DefaultPartitioner()(key, every, every)


def test_a_record_without_a_key_goes_to_an_available_partition() -> None:
    assert {partition_of(None, [0, 1, 2, 3], [2]) for _ in range(20)} == {2}
