"""Every record names its kind and version; old records still decode; the rest is rejected."""

import json
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chat_events import (
    EVENT_VERSION,
    Burst,
    ChatMessage,
    EventRejected,
    MessageChange,
    MessageEvent,
    ReadMark,
    burst_from_messages,
    decode_chat_event,
    decode_grouped_record,
    timeuuid_at,
    timeuuid_datetime,
)

CHAT = uuid.UUID("6f1c2b1e-8a57-4a4c-9d0e-3f9f1f0a1b2c")
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _time(seconds: float) -> uuid.UUID:
    # Seeded: the same moment gives the same TimeUUID, so one message is built twice alike.
    return timeuuid_at(_EPOCH + timedelta(seconds=seconds), random.Random(seconds))


def _event(body: str = "hi") -> MessageEvent:
    time = _time(0)
    return MessageEvent(
        message_id=uuid.uuid5(time, "message"),
        chat_id=CHAT,
        from_user="1",
        to_user="2",
        body=body,
        time=time,
        time_iso=timeuuid_datetime(time),
        users_id=["1", "2"],
    )


def _edit(seconds: float, body: str) -> MessageChange:
    return MessageChange(
        kind="edit",
        chat_id=CHAT,
        message_id=_event().message_id,
        time=_event().time,
        from_user="1",
        users_id=["1", "2"],
        revision=_time(seconds),
        body=body,
    )


def _deletion(seconds: float) -> MessageChange:
    return _edit(seconds, "").model_copy(update={"kind": "delete", "body": None})


def test_every_record_written_now_names_its_kind_and_version() -> None:
    burst = burst_from_messages([_event()], "0-1")
    read = ReadMark(chat_id=CHAT, reader="2", users_id=["1", "2"], up_to=_time(0), up_to_iso=_EPOCH)
    for record, kind in (
        (_event(), "message"),
        (_edit(1, "x"), "edit"),
        (burst, "burst"),
        (_deletion(2), "delete"),
        (read, "read"),
    ):
        as_json = json.loads(record.model_dump_json())
        assert (as_json["kind"], as_json["v"]) == (kind, EVENT_VERSION)


def test_each_kind_decodes_to_its_model_on_its_topic() -> None:
    assert decode_chat_event(_event().model_dump_json().encode()) == _event()
    assert decode_chat_event(_edit(1, "x").model_dump_json().encode()) == _edit(1, "x")
    assert decode_chat_event(_deletion(1).model_dump_json().encode()) == _deletion(1)
    burst = burst_from_messages([_event()], "0-1")
    assert decode_grouped_record(burst.model_dump_json().encode()) == burst
    assert decode_grouped_record(_edit(1, "x").model_dump_json().encode()) == _edit(1, "x")


def test_records_from_before_kinds_existed_decode_as_version_one() -> None:
    legacy = json.loads(_event().model_dump_json())
    for field in ("kind", "v", "edited_at", "deleted", "revision"):
        legacy.pop(field)
    event = decode_chat_event(json.dumps(legacy).encode())
    assert isinstance(event, MessageEvent)
    assert (event.v, event.body, event.deleted, event.revision) == (1, "hi", False, None)
    old_burst = json.loads(burst_from_messages([_event()], "0-1").model_dump_json())
    del old_burst["kind"], old_burst["v"]
    assert isinstance(decode_grouped_record(json.dumps(old_burst).encode()), Burst)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"kind": "reaction", "v": 2}', "unknown_kind"),
        (b'{"kind": 7}', "unknown_kind"),
        (b'{"kind": "read", "v": 3}', "unsupported_version"),
        (b'{"kind": "read", "v": "2"}', "unparsable"),
        (b'{"kind": "edit", "v": 2, "body": "no ids"}', "unparsable"),
        (b"[1, 2]", "unparsable"),
        (b"\xff\xfe", "unparsable"),
        (None, "unparsable"),
    ],
)
def test_what_no_stage_can_use_is_rejected_with_a_reason(raw: bytes | None, reason: str) -> None:
    for decode in (decode_chat_event, decode_grouped_record):
        with pytest.raises(EventRejected) as rejected:
            decode(raw)
        assert rejected.value.reason == reason


def test_a_burst_is_not_a_chat_event_and_a_message_not_a_grouped_record() -> None:
    with pytest.raises(EventRejected, match="unknown_kind"):
        decode_chat_event(burst_from_messages([_event()], "0-1").model_dump_json().encode())
    with pytest.raises(EventRejected, match="unknown_kind"):
        decode_grouped_record(_event().model_dump_json().encode())


def test_an_edit_carries_a_body_and_a_deletion_none() -> None:
    with pytest.raises(ValueError, match="body"):
        _edit(1, "x").model_validate({**_edit(1, "x").model_dump(), "body": None})
    with pytest.raises(ValueError, match="body"):
        _deletion(1).model_validate({**_deletion(1).model_dump(), "body": "back"})


def _applied(message: ChatMessage, *changes: MessageChange) -> ChatMessage:
    for change in changes:
        message = change.applied_to(message)
    return message


def test_the_later_edit_wins_whatever_order_the_edits_arrive_in() -> None:
    message = _event().message()
    first, second = _edit(1, "first"), _edit(2, "second")
    for order in ((first, second), (second, first)):
        state = _applied(message, *order)
        assert (state.body, state.revision) == ("second", second.revision)
        assert state.edited_at == timeuuid_datetime(second.revision)


def test_a_deletion_wins_over_every_edit_and_leaves_no_body() -> None:
    message = _event().message()
    for order in ((_edit(1, "a"), _deletion(2), _edit(3, "b")), (_edit(3, "b"), _deletion(2))):
        state = _applied(message, *order)
        assert (state.deleted, state.body) == (True, "")


def test_a_change_applied_twice_changes_nothing_the_second_time() -> None:
    once = _edit(1, "x").applied_to(_event().message())
    assert _edit(1, "x").applied_to(once) is once


def test_a_change_is_the_state_of_its_message() -> None:
    edited = _edit(1, "x").applied_to(_event().message())
    assert MessageChange.of(edited, ["1", "2"]) == _edit(1, "x")
    with pytest.raises(ValueError, match="never changed"):
        MessageChange.of(_event().message(), ["1", "2"])
    with pytest.raises(ValueError, match="its own message"):
        _edit(1, "x").applied_to(_event().message().model_copy(update={"message_id": CHAT}))
