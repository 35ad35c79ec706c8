"""Firestore writes built straight from the protobuf classes.

The client's `batch.set` encodes a document through proto-plus wrappers, a Python object per
value and per field, which took about three fifths of this service's CPU under load (a burst
document holds each message as a map of ten fields). `set_write` builds the same `Write`
(byte for byte: tests/test_firestore_encoding.py compares it with the client's) from the
protobuf classes underneath, filling each value in place.

It encodes what the documents hold: None, bool, int, float, str, datetimes (naive ones taken
as UTC, as the client does), lists and string-keyed dicts of those, and `SERVER_TIMESTAMP` as
a top-level field; any other value is a TypeError, as in the client.
"""

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from google.cloud.firestore import SERVER_TIMESTAMP
from google.cloud.firestore_v1.types import write

_Write = write.Write.pb()
_REQUEST_TIME = write.DocumentTransform.FieldTransform.ServerValue.REQUEST_TIME
# A top-level field name that needs no quoting in a field path.
_SIMPLE_NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")


def set_write(document_path: str, fields: Mapping[str, Any]) -> write.Write:
    """The write of `batch.set` for the document at `document_path` (its full name,
    `projects/.../documents/...`): replaces the document with `fields`, whose
    `SERVER_TIMESTAMP` fields Firestore sets to the commit's time."""
    pb = _Write()
    pb.update.name = document_path
    stored = pb.update.fields
    stamped = []
    for name, value in fields.items():
        if value is SERVER_TIMESTAMP:
            if not _SIMPLE_NAME.fullmatch(name):
                raise ValueError(f"A server timestamp needs a plain field name, not {name!r}")
            stamped.append(name)
        else:
            _fill(stored[name], value)
    for name in sorted(stamped):
        pb.update_transforms.add(field_path=name, set_to_server_value=_REQUEST_TIME)
    wrapped: write.Write = write.Write.wrap(pb)
    return wrapped


def _fill(target: Any, value: Any) -> None:
    """Writes `value` into the protobuf `Value` `target` (bool before int: a bool is one)."""
    if value is None:
        target.null_value = 0
    elif isinstance(value, str):
        target.string_value = value
    elif isinstance(value, bool):
        target.boolean_value = value
    elif isinstance(value, int):
        target.integer_value = value
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, datetime):
        target.timestamp_value.FromDatetime(value)
    elif isinstance(value, list | tuple):
        array = target.array_value
        array.SetInParent()  # an empty list is still an array
        for item in value:
            _fill(array.values.add(), item)
    elif isinstance(value, dict):
        entries = target.map_value
        entries.SetInParent()
        for key, item in value.items():
            _fill(entries.fields[key], item)
    else:
        raise TypeError("Cannot convert to a Firestore Value", value, type(value))
