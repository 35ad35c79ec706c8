"""Time buckets of message partitions: pure arithmetic, no I/O.

A chat's messages are split into partitions of `bucket_days` days each, so no partition grows
without bound. A bucket number is the message's day count since the Unix epoch divided by the
bucket length, rounded down (so times before 1970 get negative buckets, still ordered).
TimeUUIDs themselves are made and read by `chat_events.timeuuid`.
"""

import uuid
from datetime import UTC, datetime, timedelta

from chat_events import timeuuid_datetime

_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Cassandra's `int` is 32-bit signed; the newest possible bucket, used for "no cursor".
NEWEST_BUCKET = (1 << 31) - 1


def bucket_of(moment: datetime, bucket_days: int) -> int:
    """The bucket that holds messages sent at `moment` (an aware datetime)."""
    days = (moment - _UNIX_EPOCH) // timedelta(days=1)
    return days // bucket_days


def bucket_of_timeuuid(value: uuid.UUID, bucket_days: int) -> int:
    return bucket_of(timeuuid_datetime(value), bucket_days)
