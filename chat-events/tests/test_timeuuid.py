"""TimeUUIDs: made for a moment or for now, read back, recognised, ordered like Cassandra."""

import os
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chat_events import (
    is_timeuuid,
    new_timeuuid,
    timeuuid_at,
    timeuuid_datetime,
    timeuuid_sort_key,
)


def test_timeuuid_datetime_reads_the_embedded_instant() -> None:
    moment = datetime.fromtimestamp(1_700_000_000, tz=UTC)
    assert timeuuid_datetime(timeuuid_at(moment)) == moment


def test_timeuuid_datetime_refuses_other_uuid_versions() -> None:
    with pytest.raises(ValueError, match="version 1"):
        timeuuid_datetime(uuid.uuid4())


def test_timeuuid_at_round_trips_the_time_to_the_microsecond() -> None:
    moment = datetime(2019, 7, 4, 12, 30, 15, 654321, tzinfo=UTC)
    value = timeuuid_at(moment, random.Random(1))
    assert is_timeuuid(value)
    assert timeuuid_datetime(value) == moment


def test_timeuuid_at_gives_distinct_ids_for_the_same_instant() -> None:
    moment = datetime(2020, 1, 1, tzinfo=UTC)
    ids = {timeuuid_at(moment) for _ in range(1000)}
    assert len(ids) == 1000


@pytest.mark.parametrize(
    "moment", [datetime(1500, 1, 1, tzinfo=UTC), datetime(5300, 1, 1, tzinfo=UTC)]
)
def test_timeuuid_at_refuses_times_outside_the_60_bit_range(moment: datetime) -> None:
    with pytest.raises(ValueError, match="outside"):
        timeuuid_at(moment)


def test_the_gregorian_epoch_itself_is_timestamp_zero() -> None:
    value = timeuuid_at(datetime(1582, 10, 15, tzinfo=UTC))
    assert value.time == 0


def test_sort_key_orders_by_time_where_uuid_ordering_does_not() -> None:
    # The low 32 bits of the timestamp come first in the bytes: across the moment they wrap
    # to zero, the later id has the smaller bytes.
    wrap = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(microseconds=126_166_630)
    early = timeuuid_at(wrap - timedelta(microseconds=1))
    late = timeuuid_at(wrap + timedelta(microseconds=1))
    assert sorted([late, early]) == [late, early]
    assert sorted([late, early], key=timeuuid_sort_key) == [early, late]


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
