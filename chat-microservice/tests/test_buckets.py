import os
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chat_events import timeuuid_datetime, timeuuid_sort_key
from chat_service.buckets import (
    bucket_of,
    bucket_of_timeuuid,
    is_timeuuid,
    new_timeuuid,
    timeuuid_at,
)


def test_bucket_boundaries_fall_on_multiples_of_the_bucket_length() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert bucket_of(epoch, 10) == 0
    assert bucket_of(epoch + timedelta(days=10) - timedelta(microseconds=1), 10) == 0
    assert bucket_of(epoch + timedelta(days=10), 10) == 1
    assert bucket_of(epoch - timedelta(microseconds=1), 10) == -1


def test_bucket_length_is_configurable() -> None:
    moment = datetime(2024, 3, 1, tzinfo=UTC)
    days = (moment - datetime(1970, 1, 1, tzinfo=UTC)).days
    assert bucket_of(moment, 1) == days
    assert bucket_of(moment, 30) == days // 30


def test_timeuuid_at_round_trips_the_time_to_the_microsecond() -> None:
    moment = datetime(2019, 7, 4, 12, 30, 15, 654321, tzinfo=UTC)
    value = timeuuid_at(moment, random.Random(1))
    assert is_timeuuid(value)
    assert timeuuid_datetime(value) == moment
    assert bucket_of_timeuuid(value, 10) == bucket_of(moment, 10)


def test_timeuuid_at_gives_distinct_ids_for_the_same_instant() -> None:
    moment = datetime(2020, 1, 1, tzinfo=UTC)
    ids = {timeuuid_at(moment) for _ in range(1000)}
    assert len(ids) == 1000


def test_timeuuid_at_refuses_times_before_the_gregorian_epoch() -> None:
    with pytest.raises(ValueError, match="outside"):
        timeuuid_at(datetime(1500, 1, 1, tzinfo=UTC))


def test_new_timeuuids_increase_strictly_and_carry_the_current_time() -> None:
    before = datetime.now(UTC)
    values = [new_timeuuid() for _ in range(500)]
    keys = [timeuuid_sort_key(v) for v in values]
    assert keys == sorted(keys)
    assert len({v.time for v in values}) == 500
    assert before - timedelta(seconds=1) <= timeuuid_datetime(values[0]) <= datetime.now(UTC)


def test_new_timeuuids_of_one_process_share_a_node_and_a_forked_process_draws_its_own() -> None:
    ours = new_timeuuid()
    assert new_timeuuid().node == ours.node
    assert ours.node & (1 << 40), "the multicast bit marks the node as not a MAC address"
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, new_timeuuid().bytes)
        os._exit(0)
    os.waitpid(pid, 0)
    child = uuid.UUID(bytes=os.read(read, 16))
    assert child.node != ours.node


def test_only_version_one_uuids_are_timeuuids() -> None:
    assert not is_timeuuid(uuid.uuid4())
    assert is_timeuuid(uuid.uuid1())
