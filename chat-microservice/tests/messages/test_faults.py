import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from chat_service.database import connect
from chat_service.migrations import migrate
from chat_service.settings import ChatSettings, Consistency
from devstack.settings import Endpoints
from devstack.testing import cql_session

OpenChat = Callable[[], Awaitable[Any]]


async def _history(client: httpx.AsyncClient, chat: dict[str, Any], user: Any) -> list[Any]:
    response = await client.get(
        f"/v1/chat/{chat['chat_id']}/messages/", params={"quantity": 100}, headers=user.headers
    )
    return list(response.json())


@pytest.mark.slow
async def test_kafka_down_gives_503_and_the_retry_after_recovery_gives_one_message(
    serve_app: Callable[..., Any],
    open_chat: OpenChat,
    client: httpx.AsyncClient,
    closed_address: str,
    kafka_records: Callable[..., Awaitable[Any]],
    kafka_topics: Callable[..., dict[str, str]],
) -> None:
    # The factory runs its own event loop, so it goes to a thread from this async test.
    topics = await asyncio.to_thread(kafka_topics, "chat_messages", partitions=3)
    topic = topics["chat_messages"]
    alice, bob, chat = await open_chat()
    payload = {
        "chat_id": chat["chat_id"],
        "to_user": bob.id,
        "body": "survives",
        "client_message_id": "k-1",
    }
    async with serve_app(
        kafka_bootstrap_servers=closed_address, kafka_timeout=timedelta(seconds=1)
    ) as broken:
        failed = await broken.post("/v1/messaging/", json=payload, headers=alice.headers)
        assert failed.status_code == 503
        assert failed.json()["code"] == "kafka_unavailable"
        assert int(failed.headers["retry-after"]) >= 1

    # Kafka is back (another replica reaches it): the retry completes the same message.
    async with serve_app(messages_topic=topic) as recovered:
        retried = await recovered.post("/v1/messaging/", json=payload, headers=alice.headers)
        assert retried.status_code == 200, retried.text
        again = await recovered.post("/v1/messaging/", json=payload, headers=alice.headers)
        assert again.json() == retried.json()
        assert await _history(recovered, chat, bob) == [retried.json()]
    records = await kafka_records(None, topic=topic)
    assert [(key, value["message_id"]) for key, value in records] == [
        (chat["chat_id"], retried.json()["message_id"])
    ]


@pytest.mark.slow
async def test_kafka_down_without_a_key_leaves_no_message_behind(
    serve_app: Callable[..., Any],
    open_chat: OpenChat,
    client: httpx.AsyncClient,
    closed_address: str,
) -> None:
    alice, bob, chat = await open_chat()
    payload = {"chat_id": chat["chat_id"], "to_user": bob.id, "body": "lost?"}
    async with serve_app(
        kafka_bootstrap_servers=closed_address, kafka_timeout=timedelta(seconds=1)
    ) as broken:
        failed = await broken.post("/v1/messaging/", json=payload, headers=alice.headers)
    assert failed.status_code == 503
    assert await _history(client, chat, bob) == []
    retried = await client.post("/v1/messaging/", json=payload, headers=alice.headers)
    assert retried.status_code == 201
    assert [m["message_id"] for m in await _history(client, chat, bob)] == [
        retried.json()["message_id"]
    ]


async def test_auth_service_down_gives_503_on_chat_creation(
    serve_app: Callable[..., Any], make_user: Callable[[], Awaitable[Any]], closed_address: str
) -> None:
    alice, bob = await make_user(), await make_user()
    async with serve_app(auth_service_url=f"http://{closed_address}") as client:
        response = await client.post(
            "/v1/chat/", json={"users_id": [alice.id, bob.id]}, headers=alice.headers
        )
        assert response.status_code == 503
        assert response.json()["code"] == "auth_service_unavailable"
        assert "retry-after" in response.headers
        assert (await client.get("/v1/chat/", headers=alice.headers)).json() == []
        metrics = (await client.get("/metrics")).text
        assert 'chat_dependency_unavailable_total{dependency="auth_service"} 1.0' in metrics


async def test_cassandra_without_enough_replicas_gives_503_and_stores_nothing(
    serve_app: Callable[..., Any],
    make_user: Callable[[], Awaitable[Any]],
    chat_settings: ChatSettings,
    fresh_keyspace: str,
    stack: Endpoints,
) -> None:
    """A keyspace that wants 3 replicas on our single node: QUORUM writes and lightweight
    transactions fail with Unavailable, as they would with two of three nodes down."""
    settings = chat_settings.model_copy(
        update={
            "keyspace": fresh_keyspace,
            "replication": {"class": "SimpleStrategy", "replication_factor": 3},
        }
    )
    session = await connect(settings)
    try:
        await migrate(session, settings)
    finally:
        await session.close()
    alice, bob = await make_user(), await make_user()
    chat_id = uuid.uuid4()
    with cql_session(stack) as cql:
        cql.execute(
            f"INSERT INTO {fresh_keyspace}.chats (chat_id, users_id, users_name, created_at) "
            "VALUES (%s, %s, %s, toTimestamp(now()))",
            (chat_id, [alice.id, bob.id], [alice.username, bob.username]),
        )
    async with serve_app(keyspace=fresh_keyspace, write_consistency=Consistency.QUORUM) as client:
        for extra in ({}, {"client_message_id": "k"}):
            payload = {"chat_id": str(chat_id), "to_user": bob.id, "body": "hi", **extra}
            response = await client.post("/v1/messaging/", json=payload, headers=alice.headers)
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "cassandra_unavailable"
            assert "retry-after" in response.headers
        created = await client.post(
            "/v1/chat/", json={"users_id": [alice.id, bob.id]}, headers=alice.headers
        )
        assert (created.status_code, created.json()["code"]) == (503, "cassandra_unavailable")
        history = await client.get(f"/v1/chat/{chat_id}/messages/", headers=alice.headers)
        assert (history.status_code, history.json()) == (200, [])
