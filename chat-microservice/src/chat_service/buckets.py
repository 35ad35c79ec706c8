"""Time buckets of message partitions and TimeUUID cursors: pure arithmetic, no I/O.

A chat's messages are split into partitions of `bucket_days` days each, so no partition grows
without bound. A bucket number is the message's day count since the Unix epoch divided by the
bucket length, rounded down (so times before 1970 get negative buckets, still ordered).
"""

import os
import random
import uuid
from datetime import UTC, datetime, timedelta

from chat_events import timeuuid_datetime

_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_GREGORIAN_EPOCH = datetime(1582, 10, 15, tzinfo=UTC)
# A version-1 UUID holds a 60-bit count of 100 ns intervals since the Gregorian epoch.
_MAX_TIMESTAMP = (1 << 60) - 1
# Cassandra's `int` is 32-bit signed; the newest possible bucket, used for "no cursor".
NEWEST_BUCKET = (1 << 31) - 1


def bucket_of(moment: datetime, bucket_days: int) -> int:
    """The bucket that holds messages sent at `moment` (an aware datetime)."""
    days = (moment - _UNIX_EPOCH) // timedelta(days=1)
    return days // bucket_days


def bucket_of_timeuuid(value: uuid.UUID, bucket_days: int) -> int:
    return bucket_of(timeuuid_datetime(value), bucket_days)


def timeuuid_at(moment: datetime, rng: random.Random | None = None) -> uuid.UUID:
    """A version-1 UUID for `moment` with a random clock sequence and node.

    The random node keeps ids from different processes apart without revealing a MAC
    address; the multicast bit marks the node as not a real hardware address (RFC 4122 4.5).
    """
    source = rng or random.SystemRandom()
    ticks = (moment - _GREGORIAN_EPOCH) // timedelta(microseconds=1) * 10
    if not 0 <= ticks <= _MAX_TIMESTAMP:
        raise ValueError(f"time outside the TimeUUID range: {moment.isoformat()}")
    node = source.getrandbits(48) | (1 << 40)
    clock_seq = source.getrandbits(14)
    fields = (
        ticks & 0xFFFFFFFF,
        (ticks >> 32) & 0xFFFF,
        ((ticks >> 48) & 0x0FFF) | 0x1000,
        0x80 | (clock_seq >> 8),
        clock_seq & 0xFF,
        node,
    )
    return uuid.UUID(fields=fields)


def _random_node() -> int:
    return random.SystemRandom().getrandbits(48) | (1 << 40)


# One random node per process, drawn again in a forked child: ids from different processes
# differ in their node, and within a process `uuid.uuid1` keeps timestamps increasing.
_node = _random_node()


def _renew_node() -> None:
    global _node
    _node = _random_node()


os.register_at_fork(after_in_child=_renew_node)


def new_timeuuid() -> uuid.UUID:
    """A fresh TimeUUID for a message sent now.

    `uuid.uuid1` keeps timestamps strictly increasing within this process, which a
    clock-derived id alone would not when two messages land in the same microsecond. The
    node is drawn once per process rather than per id: reading the kernel's random source
    on every send cost more than the rest of the id.
    """
    return uuid.uuid1(node=_node)


def is_timeuuid(value: uuid.UUID) -> bool:
    return value.version == 1 and value.variant == uuid.RFC_4122
