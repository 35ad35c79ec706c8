"""Every kind of record through the aggregator and the consumer into Firestore: edits of stored
and of buffered messages, a deletion reaching two documents, a deletion beating an older edit,
read marks, legacy records, and rejected records dead-lettered by both stages.

One pipeline (both processes, fresh topics, a Firestore project of its own) serves the module;
each test works in chats of its own.
"""

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aggregator_testing import (
    aggregator_env,
    change_of,
    consumer_env,
    legacy_json,
    new_message,
    read_mark,
    read_topic,
    send_events,
    start_producer,
    wait_ready,
)
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore

from chat_events import MessageChange, MessageEvent, ReadMark
from devstack.kafka_topics import create_topics, delete_topics
from devstack.settings import Endpoints
from devstack.testing import ServiceProcess, unique_name, wait_until

NAMES = ("chat_messages", "chat_messages_grouped", "chat_messages_grouped_dlq")


@dataclass
class Pipeline:
    bootstrap: str
    topics: dict[str, str]
    project: str
    processes: list[ServiceProcess]

    def output(self) -> str:
        return "".join(p.output() for p in self.processes)

    async def send(self, *events: MessageEvent | MessageChange | ReadMark) -> None:
        producer = start_producer(self.bootstrap)
        await producer.start()
        try:
            await send_events(producer, self.topics["chat_messages"], events)
        finally:
            await producer.stop()

    async def send_raw(self, topic: str, chat: uuid.UUID, *values: bytes) -> None:
        producer = start_producer(self.bootstrap)
        await producer.start()
        try:
            for value in values:
                await producer.send_and_wait(
                    self.topics[topic], key=str(chat).encode(), value=value
                )
        finally:
            await producer.stop()

    def documents(self, chat: uuid.UUID, collection: str = "aggregates") -> list[dict[str, Any]]:
        client = firestore.Client(project=self.project, credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
        try:
            return [d.to_dict() for d in client.collection(f"chats/{chat}/{collection}").stream()]
        finally:
            client.close()

    def copies(self, message: MessageEvent) -> list[dict[str, Any]]:
        """Every document's entry of `message`."""
        return [
            entry
            for document in self.documents(message.chat_id)
            for entry in document["list_of_messages"]
            if entry["message_id"] == str(message.message_id)
        ]

    async def wait(self, condition: Any, within: float = 20) -> None:
        assert await wait_until(condition, within, interval=0.1), self.output()


@pytest.fixture(scope="module")
def pipeline(stack: Endpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    bootstrap = stack.kafka_bootstrap_servers
    topics = {name: unique_name(name) for name in NAMES}
    asyncio.run(create_topics(bootstrap, topics.values(), 3))
    project = f"demo-{unique_name('test').replace('_', '-')}"
    environment = pytest.MonkeyPatch()
    environment.setenv("FIRESTORE_EMULATOR_HOST", stack.firestore_emulator_host)
    logs = tmp_path_factory.mktemp("pipeline")
    agg_env = aggregator_env(bootstrap, topics, replica="a")
    con_env = consumer_env(bootstrap, topics, project)
    processes = [
        ServiceProcess("aggregator", agg_env, logs / "aggregator.log").start(),
        ServiceProcess("aggregated-consumer", con_env, logs / "consumer.log").start(),
    ]
    try:
        asyncio.run(wait_ready(agg_env["AGGREGATOR_HTTP_PORT"], processes[0]))
        asyncio.run(wait_ready(con_env["AGGREGATED_CONSUMER_HTTP_PORT"], processes[1]))
        yield Pipeline(bootstrap, topics, project, processes)
    finally:
        for process in processes:
            process.stop_quietly()
        asyncio.run(delete_topics(bootstrap, list(topics.values())))
        environment.undo()


async def test_an_edit_reaches_a_message_already_in_a_document(pipeline: Pipeline) -> None:
    sent = new_message(uuid.uuid4(), "1", "2", "typo")
    await pipeline.send(sent)
    await pipeline.wait(lambda: len(pipeline.copies(sent)) == 1)
    (before,) = pipeline.documents(sent.chat_id)
    edit = change_of(sent, body="fixed")
    await pipeline.send(edit)
    await pipeline.wait(lambda: pipeline.copies(sent)[0]["body"] == "fixed")
    (entry,) = pipeline.copies(sent)
    assert entry["revision"] == str(edit.revision)
    assert entry["edited_at"] is not None
    (after,) = pipeline.documents(sent.chat_id)
    assert after["changed_iso"] > before["changed_iso"] == before["latest_message_time_iso"]


async def test_an_edit_of_a_message_still_buffered_is_in_its_burst(pipeline: Pipeline) -> None:
    sent = new_message(uuid.uuid4(), "1", "2", "typo")
    edit = change_of(sent, body="fixed")
    await pipeline.send(sent, edit)  # well inside the idle timeout: the buffer is still open
    await pipeline.wait(lambda: len(pipeline.copies(sent)) == 1)
    (entry,) = pipeline.copies(sent)
    assert (entry["body"], entry["revision"]) == ("fixed", str(edit.revision))


async def test_a_deletion_reaches_both_documents_of_a_message_published_twice(
    pipeline: Pipeline,
) -> None:
    sent = new_message(uuid.uuid4(), "1", "2", "secret")
    await pipeline.send(sent)
    await pipeline.wait(lambda: len(pipeline.copies(sent)) == 1)
    await pipeline.send(sent)  # a retried send: the copy opens a burst, a document, of its own
    await pipeline.wait(lambda: len(pipeline.copies(sent)) == 2)
    await pipeline.send(change_of(sent, "delete"))
    await pipeline.wait(lambda: all(copy["deleted"] for copy in pipeline.copies(sent)))
    assert [(c["body"], c["deleted"]) for c in pipeline.copies(sent)] == [("", True)] * 2
    assert len(pipeline.documents(sent.chat_id)) == 2


async def test_a_deletion_followed_by_an_older_edit_stays_deleted(pipeline: Pipeline) -> None:
    chat = uuid.uuid4()
    sent = new_message(chat, "1", "2", "secret")
    await pipeline.send(sent)
    await pipeline.wait(lambda: len(pipeline.copies(sent)) == 1)
    older_edit = change_of(sent, body="still secret")
    deletion = change_of(sent, "delete")
    later = new_message(chat, "1", "2", "after")  # read after both changes, on the same partition
    await pipeline.send(deletion, older_edit, later)
    await pipeline.wait(lambda: len(pipeline.copies(later)) == 1)
    (entry,) = pipeline.copies(sent)
    assert (entry["deleted"], entry["body"], entry["revision"]) == (
        True,
        "",
        str(deletion.revision),
    )


async def test_a_read_mark_reaches_the_readers_document(pipeline: Pipeline) -> None:
    sent = new_message(uuid.uuid4(), "1", "2", "hello")
    await pipeline.send(sent, read_mark(sent))
    await pipeline.wait(lambda: len(pipeline.documents(sent.chat_id, "reads")) == 1)
    (mark,) = pipeline.documents(sent.chat_id, "reads")
    assert (mark["members"], mark["up_to"]) == (sent.users_id, str(sent.time))


async def test_a_legacy_message_without_kind_or_version_is_aggregated(pipeline: Pipeline) -> None:
    legacy = new_message(uuid.uuid4(), "1", "2", "from before kinds")
    await pipeline.send_raw("chat_messages", legacy.chat_id, legacy_json(legacy))
    await pipeline.wait(lambda: len(pipeline.copies(legacy)) == 1)
    (document,) = pipeline.documents(legacy.chat_id)
    assert document["message_ids"] == [str(legacy.message_id)]
    assert pipeline.copies(legacy)[0]["body"] == "from before kinds"


async def test_an_unknown_kind_and_a_newer_version_are_dead_lettered_by_both_stages(
    pipeline: Pipeline,
) -> None:
    chat = uuid.uuid4()
    unknown = f'{{"kind": "reaction", "v": 2, "chat_id": "{chat}"}}'.encode()
    newer = new_message(chat, "1", "2", "v3").model_dump_json().replace('"v":2', '"v":3')
    values = [unknown, newer.encode()]
    await pipeline.send_raw("chat_messages", chat, *values)
    await pipeline.send_raw("chat_messages_grouped", chat, *values)

    def ours(records: list[Any]) -> list[Any]:
        return [r for r in records if r.value in values]

    dead = ours(
        await read_topic(
            pipeline.bootstrap,
            pipeline.topics["chat_messages_grouped_dlq"],
            lambda records: len(ours(records)) >= 4,
            20,
        )
    )
    by_stage = {
        (dict(r.headers)["source_topic"].decode(), r.value): dict(r.headers)["error_reason"]
        for r in dead
    }
    assert by_stage == {
        (pipeline.topics[topic], value): reason
        for topic in ("chat_messages", "chat_messages_grouped")
        for value, reason in zip(values, [b"unknown_kind", b"unsupported_version"], strict=True)
    }
    assert pipeline.documents(chat) == []
