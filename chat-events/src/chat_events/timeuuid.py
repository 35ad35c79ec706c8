"""Version-1 (time-based) UUIDs: made for a moment or for now, read back, ordered.

Messages are keyed by TimeUUID in Cassandra and carry it on the wire as their history cursor,
so every part of the system decodes them the same way, from here.
"""

import os
import random
import uuid
from datetime import UTC, datetime, timedelta

# A version-1 UUID counts 100 ns intervals since the start of the Gregorian calendar, in 60 bits.
_GREGORIAN_EPOCH = datetime(1582, 10, 15, tzinfo=UTC)
_MAX_TIMESTAMP = (1 << 60) - 1
# The multicast bit marks a node as not a real hardware address (RFC 4122 4.5).
_MULTICAST = 1 << 40


def is_timeuuid(value: uuid.UUID) -> bool:
    return value.version == 1 and value.variant == uuid.RFC_4122


def timeuuid_datetime(value: uuid.UUID) -> datetime:
    """The aware UTC time a version-1 UUID carries."""
    if value.version != 1:
        raise ValueError(f"not a time-based (version 1) UUID: {value}")
    return _GREGORIAN_EPOCH + timedelta(microseconds=value.time // 10)


def timeuuid_sort_key(value: uuid.UUID) -> tuple[int, bytes]:
    """Orders TimeUUIDs by their timestamp first, the way Cassandra's timeuuid type does."""
    return (value.time, value.bytes)


def timeuuid_at(moment: datetime, rng: random.Random | None = None) -> uuid.UUID:
    """A version-1 UUID for `moment` (aware) with a random clock sequence and node.

    The random node keeps ids from different processes apart without revealing a MAC address.
    """
    source = rng or random.SystemRandom()
    ticks = (moment - _GREGORIAN_EPOCH) // timedelta(microseconds=1) * 10
    if not 0 <= ticks <= _MAX_TIMESTAMP:
        raise ValueError(f"time outside the TimeUUID range: {moment.isoformat()}")
    node = source.getrandbits(48) | _MULTICAST
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
    return random.SystemRandom().getrandbits(48) | _MULTICAST


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
