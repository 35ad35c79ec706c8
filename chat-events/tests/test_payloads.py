import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel, ValidationError

from chat_events import (
    Burst,
    ChatMessage,
    MessageEvent,
    UserId,
    burst_from_messages,
    timeuuid_at,
    timeuuid_datetime,
)

CHAT = uuid.UUID("6f1c2b1e-8a57-4a4c-9d0e-3f9f1f0a1b2c")
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def event(microseconds: int, sender: str = "1", body: str = "hi") -> MessageEvent:
    """A message sent `microseconds` after the Unix epoch."""
    time = timeuuid_at(_UNIX_EPOCH + timedelta(microseconds=microseconds))
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


def test_burst_orders_messages_by_time_and_names_itself_after_the_first_record() -> None:
    late, early, middle = event(3_000), event(1_000), event(2_000)
    burst = burst_from_messages([late, early, middle], origin="2-17")
    assert [m.time for m in burst.list_of_messages] == [early.time, middle.time, late.time]
    assert burst.aggregate_id == f"1_{early.time}_2-17"
    assert (burst.first_message_time, burst.latest_message_time) == (early.time, late.time)
    assert burst.count == 3
    assert burst.users_id == ["1", "2"]


def test_burst_id_is_the_same_when_rebuilt_from_a_replay() -> None:
    messages = [event(1_000), event(2_000)]
    assert (
        burst_from_messages(messages, "0-1").aggregate_id
        == burst_from_messages(list(reversed(messages)), "0-1").aggregate_id
    )


def test_burst_refuses_mixed_senders_and_empty_input() -> None:
    with pytest.raises(ValueError, match="one sender"):
        burst_from_messages([event(1_000, "1"), event(2_000, "2")], "0-1")
    with pytest.raises(ValueError, match="at least one"):
        burst_from_messages([], "0-1")


def test_times_serialize_with_an_explicit_utc_offset() -> None:
    message = event(1_700_000_000_123_456)
    as_json = json.loads(burst_from_messages([message], "0-1").model_dump_json())
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


def test_an_event_is_its_message_plus_the_members_and_gives_the_message_back() -> None:
    message = event(1_000).message()
    with_key = message.model_copy(update={"client_message_id": "c-1"})
    for original in (message, with_key):
        published = MessageEvent.of(original, ("1", "2"))
        assert published.users_id == ["1", "2"]
        assert published.message() == original
        assert type(published.message()) is ChatMessage
        # Every field of the message survives, so a new field cannot be forgotten here.
        assert published.model_dump(exclude={"users_id", "kind", "v"}) == original.model_dump()


def test_a_burst_lists_plain_messages_without_the_members() -> None:
    as_json = json.loads(burst_from_messages([event(1_000)], "0-1").model_dump_json())
    assert "users_id" in as_json
    assert "users_id" not in as_json["list_of_messages"][0]


def _burst_json(**changes: object) -> dict[str, object]:
    document: dict[str, object] = json.loads(
        burst_from_messages([event(1_000), event(2_000)], "0-1").model_dump_json()
    )
    return {**document, **changes}


@pytest.mark.parametrize("count", [1, 3, 0, -2])
def test_a_burst_whose_count_disagrees_with_its_messages_is_refused(count: int) -> None:
    with pytest.raises(ValidationError, match="count"):
        Burst.model_validate(_burst_json(count=count))


def test_an_empty_burst_is_refused() -> None:
    with pytest.raises(ValidationError, match="count"):
        Burst.model_validate(_burst_json(count=0, list_of_messages=[]))


def test_a_consistent_burst_parses_back_to_itself() -> None:
    burst = burst_from_messages([event(1_000), event(2_000)], "0-1")
    assert Burst.model_validate_json(burst.model_dump_json()) == burst


class _Named(BaseModel):
    user: UserId


@pytest.mark.parametrize(("raw", "expected"), [("42", "42"), (42, "42"), ("9" * 19, "9" * 19)])
def test_a_user_id_is_digits_and_a_number_means_its_text(raw: object, expected: str) -> None:
    assert _Named.model_validate({"user": raw}).user == expected


@pytest.mark.parametrize("raw", ["", "1" * 20, "abc", "-1", "1.5", " 1", True, 1.5, None])
def test_anything_else_is_not_a_user_id(raw: object) -> None:
    with pytest.raises(ValidationError):
        _Named.model_validate({"user": raw})
