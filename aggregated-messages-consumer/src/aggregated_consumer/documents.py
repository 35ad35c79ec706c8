"""The Firestore documents this service writes, and how a change or the backfill alters one.

Pure functions of the records and the stored fields: the repository reads and writes, these
decide what. A burst document is `chats/{chat_id}/aggregates/{aggregate_id}`; a read mark is
`chats/{chat_id}/reads/{reader}`.
"""

from datetime import datetime, timedelta
from typing import Any

from google.cloud.firestore import SERVER_TIMESTAMP

from chat_events import (
    Burst,
    ChatMessage,
    MessageChange,
    ReadMark,
    iso_with_offset,
    timeuuid_datetime,
)


def aggregate_path(burst: Burst) -> str:
    """Per-chat subcollections keep writes off a single hot collection; the id is deterministic,
    so a replayed burst overwrites its own document instead of adding one."""
    return f"chats/{burst.chat_id}/aggregates/{burst.aggregate_id}"


def aggregates_of(change: MessageChange) -> str:
    """The collection a change looks for its message in: the documents of its own chat."""
    return f"chats/{change.chat_id}/aggregates"


def read_mark_path(mark: ReadMark) -> str:
    return f"chats/{mark.chat_id}/reads/{mark.reader}"


def aggregate_document(burst: Burst, now: datetime, retention: timedelta) -> dict[str, Any]:
    """The burst's JSON with its members under `members` (the field the security rules, the
    index and the browser's query use) instead of `users_id`, which no reader of a document
    needs; `message_ids` (what a change's query filters on) and `changed_iso` (what the browser
    orders on: the latest message time, moved forward by every change); plus `created_at` and
    `expire_at` (the TTL policy's field)."""
    document: dict[str, Any] = burst.model_dump(mode="json", exclude={"users_id"})
    document["members"] = list(burst.users_id)
    document["message_ids"] = [str(m.message_id) for m in burst.list_of_messages]
    document["changed_iso"] = document["latest_message_time_iso"]
    document["created_at"] = SERVER_TIMESTAMP
    document["expire_at"] = now + retention
    return document


def read_mark_document(mark: ReadMark) -> dict[str, Any]:
    """The one document the peer's browser listens to for "Seen"."""
    return {
        "members": list(mark.users_id),
        "up_to": str(mark.up_to),
        "up_to_iso": iso_with_offset(mark.up_to_iso),
        "updated_at": SERVER_TIMESTAMP,
    }


def change_update(document: dict[str, Any], change: MessageChange) -> dict[str, Any] | None:
    """The fields to update so that a burst document shows `change`, or None when its copy of
    the message already holds a state that wins (a replay, a duplicate, an older edit after a
    deletion): then nothing is written."""
    entries: list[dict[str, Any]] = list(document.get("list_of_messages", []))
    target = str(change.message_id)
    changed = False
    for position, entry in enumerate(entries):
        if entry.get("message_id") != target:
            continue
        held = ChatMessage.model_validate(entry)
        after = change.applied_to(held)
        if after is not held:
            entries[position] = after.model_dump(mode="json")
            changed = True
    if not changed:
        return None
    revised_at = iso_with_offset(timeuuid_datetime(change.revision))
    current = document.get("changed_iso") or document.get("latest_message_time_iso") or ""
    return {"list_of_messages": entries, "changed_iso": max(current, revised_at)}


def backfill_update(document: dict[str, Any]) -> dict[str, Any] | None:
    """The fields a burst document written before changes existed lacks, or None if it has
    them: `message_ids` so that edits and deletions find it, `changed_iso` so that the
    browser's query (ordered on it) still lists it."""
    update: dict[str, Any] = {}
    if "message_ids" not in document:
        entries = document.get("list_of_messages", [])
        update["message_ids"] = [str(entry["message_id"]) for entry in entries]
    if "changed_iso" not in document:
        update["changed_iso"] = document["latest_message_time_iso"]
    return update or None
