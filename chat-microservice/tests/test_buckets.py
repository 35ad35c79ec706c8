from datetime import UTC, datetime, timedelta

from chat_events import timeuuid_at
from chat_service.buckets import bucket_of, bucket_of_timeuuid


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


def test_the_bucket_of_a_timeuuid_is_the_bucket_of_its_time() -> None:
    moment = datetime(2019, 7, 4, 12, 30, 15, 654321, tzinfo=UTC)
    assert bucket_of_timeuuid(timeuuid_at(moment), 10) == bucket_of(moment, 10)
    midnight = datetime(2024, 3, 1, tzinfo=UTC)
    just_before = timeuuid_at(midnight - timedelta(microseconds=1))
    assert bucket_of_timeuuid(just_before, 1) == bucket_of(midnight, 1) - 1
