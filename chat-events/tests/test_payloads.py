import json
import uuid
from datetime import UTC, datetime

import pytest

from chat_events import ChatMessage, MessageEvent, burst_from_messages, timeuuid_datetime

CHAT = uuid.UUID("6f1c2b1e-8a57-4a4c-9d0e-3f9f1f0a1b2c")


def timeuuid(microseconds: int) -> uuid.UUID:
    """A version-1 UUID for a chosen instant (100 ns ticks since 1582-10-15)."""
    ticks = 0x01B21DD213814000 + microseconds * 10
    return uuid.UUID(
        fields=(ticks & 0xFFFFFFFF, (ticks >> 32) & 0xFFFF, (ticks >> 48) | 0x1000, 0x80, 0, 1),
    )


def event(microseconds: int, sender: str = "1", body: str = "hi") -> MessageEvent:
    time = timeuuid(microseconds)
    return MessageEvent(
        message_id=uuid.uuid4(),
        chat_id=CHAT,
        from_user=sender,
        to_user="2" if sender == "1" else "1",
        body=body,
        time=time,
        time_iso=timeuuid_datetime(time),
        users_id=["1", "2"],
    )


def test_timeuuid_datetime_reads_the_embedded_instant() -> None:
    assert timeuuid_datetime(timeuuid(1_700_000_000_000_000)) == datetime.fromtimestamp(
        1_700_000_000, tz=UTC
    )


def test_timeuuid_datetime_refuses_other_uuid_versions() -> None:
    with pytest.raises(ValueError, match="version 1"):
        timeuuid_datetime(uuid.uuid4())


def test_burst_orders_messages_by_time_and_names_itself_after_the_first() -> None:
    late, early, middle = event(3_000), event(1_000), event(2_000)
    burst = burst_from_messages([late, early, middle])
    assert [m.time for m in burst.list_of_messages] == [early.time, middle.time, late.time]
    assert burst.aggregate_id == f"1_{early.time}"
    assert (burst.first_message_time, burst.latest_message_time) == (early.time, late.time)
    assert burst.count == 3
    assert burst.users_id == ["1", "2"]


def test_burst_id_is_the_same_when_rebuilt_from_a_replay() -> None:
    messages = [event(1_000), event(2_000)]
    assert (
        burst_from_messages(messages).aggregate_id
        == burst_from_messages(list(reversed(messages))).aggregate_id
    )


def test_burst_refuses_mixed_senders_and_empty_input() -> None:
    with pytest.raises(ValueError, match="one sender"):
        burst_from_messages([event(1_000, "1"), event(2_000, "2")])
    with pytest.raises(ValueError, match="at least one"):
        burst_from_messages([])


def test_times_serialize_with_an_explicit_utc_offset() -> None:
    message = event(1_700_000_000_123_456)
    as_json = json.loads(burst_from_messages([message]).model_dump_json())
    assert as_json["latest_message_time_iso"] == "2023-11-14T22:13:20.123456+00:00"
    assert as_json["list_of_messages"][0]["time_iso"].endswith("+00:00")
    assert ChatMessage.model_validate(as_json["list_of_messages"][0]).time_iso == message.time_iso


def test_iso_times_have_a_fixed_width_so_their_strings_sort_as_the_times_do() -> None:
    # A whole second would lose its fraction with a plain isoformat(), and then
    # "…:20+00:00" would sort after "…:20.5+00:00".
    whole, later = event(1_700_000_000_000_000), event(1_700_000_000_500_000)
    texts = [json.loads(m.model_dump_json())["time_iso"] for m in (whole, later)]
    assert texts == ["2023-11-14T22:13:20.000000+00:00", "2023-11-14T22:13:20.500000+00:00"]
    assert sorted(texts) == texts
