"""The consumer process against real Kafka and the Firestore emulator."""

import asyncio
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from consumer_testing import (
    all_aggregates,
    committed_offset,
    consumer_env,
    dead_letters,
    firestore_client,
    free_port,
    make_burst,
    produce,
)

from chat_events import Burst
from devstack.settings import Endpoints
from devstack.testing import ServiceProcess, wait_until


async def test_bursts_become_documents_with_members_and_expiry(
    stack: Endpoints, topics: dict[str, str], firestore_project: str, consumer: ServiceProcess
) -> None:
    bursts = [make_burst(size) for size in (1, 3, 10)]
    await produce(
        stack.kafka_bootstrap_servers,
        topics["chat_messages_grouped"],
        [b.model_dump_json().encode() for b in bursts],
    )
    consumer.start()
    client = firestore_client(firestore_project)
    assert await wait_until(lambda: len(all_aggregates(client)) == 3, 30), consumer.output()

    for burst in bursts:
        doc = client.document(f"chats/{burst.chat_id}/aggregates/{burst.aggregate_id}").get()
        data = doc.to_dict()
        fields = {k: v for k, v in data.items() if k in Burst.model_fields}
        # The members are stored once, under the name the rules and the browser use.
        assert "users_id" not in data
        assert data["members"] == burst.users_id
        assert Burst.model_validate({**fields, "users_id": data["members"]}) == burst
        assert abs(data["created_at"] - datetime.now(UTC)) < timedelta(minutes=1)
        assert abs(data["expire_at"] - (datetime.now(UTC) + timedelta(days=30))) < timedelta(
            minutes=1
        )
    port = consumer.env["AGGREGATED_CONSUMER_HTTP_PORT"]
    async with httpx.AsyncClient() as http:
        metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
        assert (await http.get(f"http://127.0.0.1:{port}/health")).status_code == 200
    assert "consumer_documents_written_total 3.0" in metrics
    assert "consumer_messages_written_total 14.0" in metrics
    assert f"consumer_documents_per_message {3 / 14}" in metrics
    assert consumer.terminate() == 0


async def test_replayed_burst_rewrites_its_document_instead_of_adding_one(
    stack: Endpoints, topics: dict[str, str], firestore_project: str, consumer: ServiceProcess
) -> None:
    burst = make_burst(4)
    value = burst.model_dump_json().encode()
    await produce(stack.kafka_bootstrap_servers, topics["chat_messages_grouped"], [value, value])
    consumer.start()
    group = consumer.env["AGGREGATED_CONSUMER_GROUP_ID"]
    topic = topics["chat_messages_grouped"]
    assert await wait_until(
        lambda: asyncio.run(committed_offset(stack.kafka_bootstrap_servers, group, topic)) == 2, 30
    ), consumer.output()
    assert len(all_aggregates(firestore_client(firestore_project))) == 1


async def test_poison_and_refused_records_go_to_dead_letter_and_the_partition_keeps_flowing(
    stack: Endpoints, topics: dict[str, str], firestore_project: str, consumer: ServiceProcess
) -> None:
    before, after = make_burst(2), make_burst(2)
    # Valid JSON, but Firestore refuses a document id longer than 1500 bytes.
    refused = make_burst(1, sender="u" * 1600)
    values = [
        before.model_dump_json().encode(),
        b"\xff not json at all",
        b'{"aggregate_id": "missing everything else"}',
        refused.model_dump_json().encode(),
        after.model_dump_json().encode(),
    ]
    await produce(stack.kafka_bootstrap_servers, topics["chat_messages_grouped"], values)
    consumer.start()
    client = firestore_client(firestore_project)
    assert await wait_until(lambda: len(all_aggregates(client)) == 2, 40), consumer.output()
    assert {d["aggregate_id"] for d in all_aggregates(client)} == {
        before.aggregate_id,
        after.aggregate_id,
    }
    dead = await dead_letters(stack.kafka_bootstrap_servers, topics["chat_messages_grouped_dlq"], 3)
    assert [r.value for r in dead] == values[1:4]
    headers = [dict(r.headers) for r in dead]
    assert [h["error_reason"] for h in headers] == [b"unparsable", b"unparsable", b"firestore"]
    assert [h["source_offset"] for h in headers] == [b"1", b"2", b"3"]
    assert b"InvalidArgument" in headers[2]["error"]
    group = consumer.env["AGGREGATED_CONSUMER_GROUP_ID"]
    topic = topics["chat_messages_grouped"]
    assert await wait_until(
        lambda: asyncio.run(committed_offset(stack.kafka_bootstrap_servers, group, topic)) == 5, 10
    )
    assert consumer.process is not None
    assert consumer.process.poll() is None


@pytest.mark.slow
async def test_kill_minus_nine_five_times_writes_every_burst_exactly_once(
    stack: Endpoints, topics: dict[str, str], firestore_project: str, consumer: ServiceProcess
) -> None:
    rng = random.Random(5)
    bursts = [make_burst(rng.randint(1, 10)) for _ in range(400)]

    async def feed() -> None:
        chunks = [bursts[i : i + 16] for i in range(0, len(bursts), 16)]
        for chunk in chunks:
            await produce(
                stack.kafka_bootstrap_servers,
                topics["chat_messages_grouped"],
                [b.model_dump_json().encode() for b in chunk],
            )
            await asyncio.sleep(1.0)

    consumer.start()
    feeding = asyncio.create_task(feed())
    for _ in range(5):
        await asyncio.sleep(rng.uniform(2, 5))
        consumer.kill()
        consumer.start()
    await feeding
    client = firestore_client(firestore_project)
    assert await wait_until(lambda: len(all_aggregates(client)) >= len(bursts), 60), (
        consumer.output()
    )
    docs = all_aggregates(client)
    assert len(docs) == len(bursts)
    written = Counter(m["message_id"] for d in docs for m in d["list_of_messages"])
    expected = {str(m.message_id) for b in bursts for m in b.list_of_messages}
    assert set(written) == expected
    assert set(written.values()) == {1}


async def test_unreachable_firestore_makes_it_unready_and_its_bursts_wait_uncommitted(
    stack: Endpoints, topics: dict[str, str], firestore_project: str, tmp_path: Path
) -> None:
    """An outage is waited out: nothing goes to the dead-letter topic however many attempts
    fail, no offset is committed, and a stop during the wait is clean (the end-to-end fault
    suite shows the bursts written once Firestore is back)."""
    env = consumer_env(
        stack.kafka_bootstrap_servers,
        topics,
        firestore_project,
        # Nothing listens there.
        AGGREGATED_CONSUMER_FIRESTORE_EMULATOR_HOST=f"127.0.0.1:{free_port()}",
        AGGREGATED_CONSUMER_WRITE_TIMEOUT="0.5",
        AGGREGATED_CONSUMER_MAX_ATTEMPTS="2",
        AGGREGATED_CONSUMER_RETRY_MAX="0.5",
    )
    service = ServiceProcess("aggregated-consumer", env, tmp_path / "consumer.log").start()
    try:
        values = [
            make_burst(2).model_dump_json().encode(),
            make_burst(3).model_dump_json().encode(),
        ]
        await produce(stack.kafka_bootstrap_servers, topics["chat_messages_grouped"], values)
        port = env["AGGREGATED_CONSUMER_HTTP_PORT"]

        def unready() -> bool:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2)
            except httpx.TransportError:
                return False
            return ready.json() == {"detail": "not ready: firestore", "code": "not_ready"}

        assert await wait_until(unready, 30), service.output()
        await asyncio.sleep(5)  # many times the two attempts a refused document would get
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"http://127.0.0.1:{port}/metrics", timeout=2)).text
        retried = re.search(r'consumer_firestore_commits_total\{outcome="retried"\} (\S+)', metrics)
        assert retried is not None, metrics
        assert float(retried.group(1)) > 2, metrics  # many times past max_attempts
        assert (
            await dead_letters(
                stack.kafka_bootstrap_servers, topics["chat_messages_grouped_dlq"], 1, within=2
            )
            == []
        )
        group, topic = env["AGGREGATED_CONSUMER_GROUP_ID"], topics["chat_messages_grouped"]
        assert await committed_offset(stack.kafka_bootstrap_servers, group, topic) in (-1, 0)
        assert service.terminate(timeout=15) == 0, service.output()
    finally:
        service.stop_quietly()
