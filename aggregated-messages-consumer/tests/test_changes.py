"""Edits, deletions and read marks through the consumer process, against real Kafka and the
Firestore emulator; the one-off backfill of documents written before changes existed."""

import asyncio
import uuid
from typing import Any

import pytest
from consumer_testing import (
    all_aggregates,
    change_of,
    committed_offset,
    dead_letters,
    firestore_client,
    free_port,
    make_burst,
    metric_value,
    metrics_text,
    produce,
    read_mark_of,
)

from aggregated_consumer.cli import main
from chat_events import Burst, burst_from_messages
from chat_events.payloads import MessageEvent
from devstack.settings import Endpoints
from devstack.testing import ServiceProcess, wait_until


def _document(client: Any, burst: Burst) -> dict[str, Any]:
    data = client.document(f"chats/{burst.chat_id}/aggregates/{burst.aggregate_id}").get()
    return data.to_dict()  # type: ignore[no-any-return]


def _entries(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["message_id"]: m for m in document["list_of_messages"]}


def _republished(burst: Burst) -> Burst:
    """The same messages in a second burst, as after a retried send opened a new one."""
    events = [MessageEvent.of(m, burst.users_id) for m in burst.list_of_messages]
    return burst_from_messages(events, origin="0-999999")


async def test_changes_reach_every_document_holding_the_message_and_only_winning_states_write(
    stack: Endpoints, topics: dict[str, str], firestore_project: str, consumer: ServiceProcess
) -> None:
    first = make_burst(2)
    second = _republished(first)
    kept, changed = first.list_of_messages
    members = first.users_id
    older_edit = change_of(kept, members, body="older")
    deletion = change_of(kept, members, "delete")
    edit = change_of(changed, members, body="fixed")
    unmatched = change_of(make_burst(1).list_of_messages[0], members, "delete")
    seen = read_mark_of(first, "2")
    late = seen.model_copy(update={"up_to": kept.time, "up_to_iso": kept.time_iso})
    records = [first, second, edit, edit, deletion, older_edit, unmatched, seen, late]
    await produce(stack.kafka_bootstrap_servers, topics["chat_messages_grouped"], records)
    consumer.start()
    group, topic = consumer.env["AGGREGATED_CONSUMER_GROUP_ID"], topics["chat_messages_grouped"]
    assert await wait_until(
        lambda: (
            asyncio.run(committed_offset(stack.kafka_bootstrap_servers, group, topic))
            == len(records)
        ),
        30,
    ), consumer.output()

    client = firestore_client(firestore_project)
    for burst in (first, second):
        document = _document(client, burst)
        entries = _entries(document)
        assert entries[str(changed.message_id)]["body"] == "fixed"
        assert entries[str(changed.message_id)]["revision"] == str(edit.revision)
        assert entries[str(kept.message_id)]["deleted"] is True  # the older edit lost
        assert entries[str(kept.message_id)]["body"] == ""
        assert document["changed_iso"] > burst.latest_message_time_iso.isoformat()
    read = client.document(f"chats/{first.chat_id}/reads/2").get().to_dict()
    assert read["members"] == members
    assert read["up_to"] == str(changed.time)  # the late, older mark did not move it back

    metrics = await metrics_text(consumer)
    expected = {
        'consumer_firestore_writes_total{kind="burst"}': 2,
        'consumer_firestore_writes_total{kind="edit"}': 2,  # one edit, two documents
        'consumer_firestore_writes_total{kind="delete"}': 2,
        'consumer_firestore_writes_total{kind="read"}': 1,
        "consumer_read_marks_behind_total": 1,
        'consumer_changes_total{outcome="applied"}': 2,
        'consumer_changes_total{outcome="not_winning"}': 2,  # the replayed edit, the older one
        'consumer_changes_total{outcome="unmatched"}': 1,
        # Each query: two documents found, or one read billed for finding none.
        'consumer_firestore_reads_total{kind="edit"}': 6,
        'consumer_firestore_reads_total{kind="delete"}': 3,
    }
    assert {k: metric_value(metrics, k) for k in expected} == expected
    assert consumer.terminate() == 0


async def test_rejected_kinds_and_versions_are_dead_lettered_and_a_legacy_burst_is_written(
    stack: Endpoints, topics: dict[str, str], firestore_project: str, consumer: ServiceProcess
) -> None:
    legacy = make_burst(2)
    values = [
        b'{"kind": "reaction", "v": 2}',
        make_burst(1).model_dump_json().replace('"v":2', '"v":3').encode(),
        legacy.model_dump_json(exclude={"kind", "v"}).encode(),
    ]
    await produce(stack.kafka_bootstrap_servers, topics["chat_messages_grouped"], values)
    consumer.start()
    client = firestore_client(firestore_project)
    assert await wait_until(lambda: len(all_aggregates(client)) == 1, 30), consumer.output()
    (document,) = all_aggregates(client)
    assert document["aggregate_id"] == legacy.aggregate_id
    assert document["message_ids"] == [str(m.message_id) for m in legacy.list_of_messages]

    dead = await dead_letters(stack.kafka_bootstrap_servers, topics["chat_messages_grouped_dlq"], 2)
    assert [r.value for r in dead] == values[:2]
    reasons = [dict(r.headers)["error_reason"] for r in dead]
    assert reasons == [b"unknown_kind", b"unsupported_version"]
    metrics = await metrics_text(consumer)
    assert metric_value(metrics, 'consumer_dead_letters_total{reason="unknown_kind"}') == 1
    assert metric_value(metrics, 'consumer_dead_letters_total{reason="unsupported_version"}') == 1


async def test_killed_between_a_burst_and_its_change_the_document_ends_changed_even_on_replay(
    stack: Endpoints, topics: dict[str, str], firestore_project: str, consumer: ServiceProcess
) -> None:
    burst = make_burst(2)
    target = burst.list_of_messages[0]
    edit = change_of(target, burst.users_id, body="fixed")
    bootstrap, topic = stack.kafka_bootstrap_servers, topics["chat_messages_grouped"]
    await produce(bootstrap, topic, [burst])
    consumer.start()
    client = firestore_client(firestore_project)
    assert await wait_until(lambda: len(all_aggregates(client)) == 1, 30), consumer.output()
    consumer.kill()
    await produce(bootstrap, topic, [edit])
    consumer.start()

    def edited() -> bool:
        return _entries(_document(client, burst))[str(target.message_id)]["body"] == "fixed"

    assert await wait_until(edited, 30), consumer.output()
    assert consumer.terminate() == 0
    # A consumer that lost every offset commit reads both again: the burst rewrites the
    # document with the old body, and the change, read after it, applies again.
    replay = ServiceProcess(
        "aggregated-consumer",
        {
            **consumer.env,
            "AGGREGATED_CONSUMER_GROUP_ID": f"replay-{uuid.uuid4()}",
            "AGGREGATED_CONSUMER_HTTP_PORT": str(free_port()),
        },
        consumer.log_path,
    ).start()
    try:
        group = replay.env["AGGREGATED_CONSUMER_GROUP_ID"]
        assert await wait_until(
            lambda: asyncio.run(committed_offset(bootstrap, group, topic)) == 2, 30
        )
        assert edited()
        assert len(all_aggregates(client)) == 1
    finally:
        replay.stop_quietly()


def test_backfill_adds_the_change_fields_to_old_documents_only(
    firestore_project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = firestore_client(firestore_project)
    old = [make_burst(2) for _ in range(5)]
    for burst in old:  # as the consumer wrote them before changes existed
        data = burst.model_dump(mode="json", exclude={"users_id", "kind", "v"})
        data["members"] = burst.users_id
        client.document(f"chats/{burst.chat_id}/aggregates/{burst.aggregate_id}").set(data)
    current = make_burst(1)
    current_path = f"chats/{current.chat_id}/aggregates/{current.aggregate_id}"
    client.document(current_path).set(
        {"message_ids": ["kept"], "changed_iso": "kept", "list_of_messages": []}
    )
    monkeypatch.setenv("AGGREGATED_CONSUMER_FIREBASE_PROJECT", firestore_project)

    main(["backfill", "--page-size", "2"])

    for burst in old:
        data = client.document(f"chats/{burst.chat_id}/aggregates/{burst.aggregate_id}").get()
        document = data.to_dict()
        assert document["message_ids"] == [str(m.message_id) for m in burst.list_of_messages]
        assert document["changed_iso"] == document["latest_message_time_iso"]
    assert client.document(current_path).get().to_dict()["changed_iso"] == "kept"
    with pytest.raises(SystemExit):
        main(["backfill", "--page-size", "501"])
