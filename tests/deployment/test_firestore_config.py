"""The Firestore files `firebase deploy --only firestore` ships: rules, the composite index of
the browser's live query, and the TTL policy on the field the consumer sets."""

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _load(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((REPO / name).read_text())


def test_firebase_json_names_the_rules_and_index_files_of_the_repository() -> None:
    firestore = _load("firebase.json")["firestore"]
    assert (REPO / firestore["rules"]).is_file()
    assert (REPO / firestore["indexes"]).is_file()


def test_the_live_query_of_the_ui_has_its_composite_index() -> None:
    live_query = (REPO / "frontend" / "lib" / "live.ts").read_text()
    assert '"array-contains"' in live_query
    assert "latest_message_time_iso" in live_query
    [index] = _load("firestore.indexes.json")["indexes"]
    assert index["collectionGroup"] == "aggregates"
    assert index["queryScope"] == "COLLECTION"
    assert index["fields"] == [
        {"fieldPath": "members", "arrayConfig": "CONTAINS"},
        {"fieldPath": "latest_message_time_iso", "order": "ASCENDING"},
    ]


def test_bursts_expire_by_the_field_the_consumer_writes() -> None:
    consumer = REPO / "aggregated-messages-consumer" / "src" / "aggregated_consumer"
    assert 'document["expire_at"]' in (consumer / "repository.py").read_text()
    [override] = _load("firestore.indexes.json")["fieldOverrides"]
    assert override == {
        "collectionGroup": "aggregates",
        "fieldPath": "expire_at",
        "ttl": True,
        "indexes": [],
    }
