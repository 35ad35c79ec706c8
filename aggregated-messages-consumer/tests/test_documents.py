"""The documents' shapes and how a change or the backfill alters one, without Firestore."""

from datetime import UTC, datetime, timedelta

from consumer_testing import change_of, make_burst, read_mark_of

from aggregated_consumer.documents import (
    aggregate_document,
    backfill_update,
    change_update,
    read_mark_document,
)
from chat_events import ChatMessage, iso_with_offset, timeuuid_datetime


def _stored(size: int = 2) -> tuple[dict, list[str], list[ChatMessage]]:  # type: ignore[type-arg]
    burst = make_burst(size)
    document = aggregate_document(burst, datetime.now(UTC), timedelta(days=1))
    return document, burst.users_id, burst.list_of_messages


def test_a_burst_document_lists_its_message_ids_and_starts_changed_at_its_latest_message() -> None:
    document, _, messages = _stored(3)
    assert document["message_ids"] == [str(m.message_id) for m in messages]
    assert document["changed_iso"] == document["latest_message_time_iso"]
    for entry in document["list_of_messages"]:
        assert (entry["edited_at"], entry["deleted"], entry["revision"]) == (None, False, None)


def test_an_edit_replaces_its_entry_and_moves_changed_iso_to_its_revision() -> None:
    document, members, messages = _stored()
    edit = change_of(messages[1], members, body="fixed")
    update = change_update(document, edit)
    assert update is not None
    entries = update["list_of_messages"]
    assert entries[0] == document["list_of_messages"][0]
    assert (entries[1]["body"], entries[1]["revision"]) == ("fixed", str(edit.revision))
    assert update["changed_iso"] == iso_with_offset(timeuuid_datetime(edit.revision))


def test_a_state_that_does_not_win_changes_nothing() -> None:
    document, members, messages = _stored()
    older_edit = change_of(messages[0], members, body="older")
    deletion = change_of(messages[0], members, "delete")
    deleted = change_update(document, deletion)
    assert deleted is not None
    assert deleted["list_of_messages"][0]["deleted"] is True
    after = document | deleted
    assert change_update(after, older_edit) is None  # a deletion wins over every edit
    assert change_update(after, deletion) is None  # a replay
    assert change_update(document, change_of(make_burst(1).list_of_messages[0], members)) is None


def test_changed_iso_never_moves_back() -> None:
    document, members, messages = _stored()
    document["changed_iso"] = "9999-01-01T00:00:00.000000+00:00"
    update = change_update(document, change_of(messages[0], members))
    assert update is not None
    assert update["changed_iso"] == "9999-01-01T00:00:00.000000+00:00"


def test_a_document_written_before_changes_existed_still_takes_a_change() -> None:
    document, members, messages = _stored()
    for key in ("message_ids", "changed_iso"):
        del document[key]
    for entry in document["list_of_messages"]:
        for key in ("edited_at", "deleted", "revision"):
            del entry[key]
    update = change_update(document, change_of(messages[0], members, "delete"))
    assert update is not None
    assert update["list_of_messages"][0]["deleted"] is True


def test_backfill_adds_only_the_missing_fields() -> None:
    document, _, messages = _stored()
    assert backfill_update(document) is None
    legacy = {k: v for k, v in document.items() if k not in ("message_ids", "changed_iso")}
    assert backfill_update(legacy) == {
        "message_ids": [str(m.message_id) for m in messages],
        "changed_iso": document["latest_message_time_iso"],
    }
    moved = {k: v for k, v in document.items() if k != "message_ids"} | {"changed_iso": "later"}
    assert backfill_update(moved) == {"message_ids": document["message_ids"]}


def test_a_read_mark_document_holds_the_members_and_the_mark() -> None:
    burst = make_burst(2)
    document = read_mark_document(read_mark_of(burst, "2"))
    last = burst.list_of_messages[-1]
    assert document["members"] == burst.users_id
    assert document["up_to"] == str(last.time)
    assert document["up_to_iso"] == iso_with_offset(last.time_iso)
    assert "updated_at" in document
