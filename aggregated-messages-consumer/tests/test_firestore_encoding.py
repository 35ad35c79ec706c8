"""`set_write` against the client's own encoding of `batch.set`: the same bytes for every
document this service writes and for each kind of value, a clear error for the rest."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from consumer_testing import change_of, make_burst, read_mark_of
from google.cloud.firestore import SERVER_TIMESTAMP
from google.cloud.firestore_v1 import _helpers

from aggregated_consumer.documents import aggregate_document, change_update, read_mark_document
from aggregated_consumer.firestore_encoding import set_write

_PATH = "projects/demo/databases/(default)/documents/chats/c/aggregates/a"


def _as_the_client_writes(fields: dict[str, Any]) -> bytes:
    (write,) = _helpers.pbs_for_set_no_merge(_PATH, fields)
    return bytes(write._pb.SerializeToString(deterministic=True))


def _as_we_write(fields: dict[str, Any]) -> bytes:
    return bytes(set_write(_PATH, fields)._pb.SerializeToString(deterministic=True))


def _documents() -> list[dict[str, Any]]:
    burst = make_burst(6)
    stored = aggregate_document(burst, datetime.now(UTC), timedelta(days=30))
    edited = change_update(stored, change_of(burst.list_of_messages[2], burst.users_id))
    deleted = change_update(stored, change_of(burst.list_of_messages[4], burst.users_id, "delete"))
    assert edited is not None
    assert deleted is not None
    return [
        stored,
        {**stored, **edited},
        {**stored, **deleted},
        read_mark_document(read_mark_of(burst, burst.users_id[1])),
    ]


@pytest.mark.parametrize("fields", _documents(), ids=["burst", "edited", "deleted", "read-mark"])
def test_every_document_this_service_writes_is_encoded_as_the_client_encodes_it(
    fields: dict[str, Any],
) -> None:
    assert _as_we_write(fields) == _as_the_client_writes(fields)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -(2**63),
        2**63 - 1,
        1.5,
        float("inf"),
        "",
        "héllo 😀 你好",
        datetime(2026, 12, 7, 6, 35, 25, 123456, tzinfo=UTC),
        datetime(2026, 12, 7, 8, 35, tzinfo=timezone(timedelta(hours=2))),
        datetime(1969, 7, 20, 20, 17, 40),
        [],
        {},
        [1, "two", None, [3.0, []], {"k": {}}],
        {"nested": {"deeper": [True, {"x": 1}]}, "a.b`c": 1, "ünï": "code"},
    ],
    ids=repr,
)
def test_each_kind_of_value_is_encoded_as_the_client_encodes_it(value: Any) -> None:
    fields = {"value": value, "stamped_at": SERVER_TIMESTAMP, "another_stamp": SERVER_TIMESTAMP}
    assert _as_we_write(fields) == _as_the_client_writes(fields)


@pytest.mark.parametrize("value", [b"bytes", object(), {1: "not a string key"}])
def test_a_value_no_document_holds_is_refused(value: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        set_write(_PATH, {"value": value})


def test_a_server_timestamp_needs_a_plain_field_name() -> None:
    with pytest.raises(ValueError, match="plain field name"):
        set_write(_PATH, {"a.b": SERVER_TIMESTAMP})
