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
    assert 'orderBy("changed_iso")' in live_query
    indexes = _load("firestore.indexes.json")["indexes"]
    assert all(i["collectionGroup"] == "aggregates" for i in indexes)
    assert all(i["queryScope"] == "COLLECTION" for i in indexes)
    assert [i["fields"] for i in indexes] == [
        [
            {"fieldPath": "members", "arrayConfig": "CONTAINS"},
            {"fieldPath": field, "order": "ASCENDING"},
        ]
        # changed_iso is the query of this UI; latest_message_time_iso that of browsers still
        # running the previous one, until they are gone and the backfill has run.
        for field in ("latest_message_time_iso", "changed_iso")
    ]


def test_bursts_expire_by_the_field_the_consumer_writes() -> None:
    consumer = REPO / "aggregated-messages-consumer" / "src" / "aggregated_consumer"
    assert 'document["expire_at"]' in (consumer / "documents.py").read_text()
    [override] = _load("firestore.indexes.json")["fieldOverrides"]
    assert override == {
        "collectionGroup": "aggregates",
        "fieldPath": "expire_at",
        "ttl": True,
        "indexes": [],
    }
