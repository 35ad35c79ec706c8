"""Version-1 (time-based) UUID helpers."""

import uuid
from datetime import UTC, datetime, timedelta

# A version-1 UUID counts 100 ns intervals since the start of the Gregorian calendar.
_GREGORIAN_EPOCH = datetime(1582, 10, 15, tzinfo=UTC)


def timeuuid_datetime(value: uuid.UUID) -> datetime:
    """The aware UTC time a version-1 UUID carries."""
    if value.version != 1:
        raise ValueError(f"not a time-based (version 1) UUID: {value}")
    return _GREGORIAN_EPOCH + timedelta(microseconds=value.time // 10)


def timeuuid_sort_key(value: uuid.UUID) -> tuple[int, bytes]:
    """Orders TimeUUIDs by their timestamp first, the way Cassandra's timeuuid type does."""
    return (value.time, value.bytes)
