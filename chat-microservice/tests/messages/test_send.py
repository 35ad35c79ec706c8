import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx

from chat_events import MessageEvent, timeuuid_datetime

OpenChat = Callable[[], Awaitable[Any]]


def _payload(
    chat: dict[str, Any], to_user: str, body: str = "hello", **extra: Any
) -> dict[str, Any]:
    return {"chat_id": chat["chat_id"], "to_user": to_user, "body": body, **extra}


async def _history(client: httpx.AsyncClient, chat: dict[str, Any], user: Any) -> list[Any]:
    response = await client.get(
        f"/v1/chat/{chat['chat_id']}/messages/", params={"quantity": 100}, headers=user.headers
    )
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_send_returns_201_stores_and_publishes_keyed_by_chat(
    client: httpx.AsyncClient, open_chat: OpenChat, kafka_records: Callable[[str], Awaitable[Any]]
) -> None:
    alice, bob, chat = await open_chat()
    response = await client.post(
        "/v1/messaging/",
        json=_payload(chat, bob.id, "  hi Bob\n", from_user=alice.id, client_message_id="c-1"),
        headers=alice.headers,
    )
    assert response.status_code == 201, response.text
    message = response.json()
    assert message["chat_id"] == chat["chat_id"]
    assert (message["from_user"], message["to_user"]) == (alice.id, bob.id)
    assert message["body"] == "hi Bob"
    assert message["client_message_id"] == "c-1"
    time = uuid.UUID(message["time"])
    assert time.version == 1
    assert message["time_iso"] == timeuuid_datetime(time).isoformat(timespec="microseconds")
    assert await _history(client, chat, bob) == [message]
    records = await kafka_records(chat["chat_id"])
    assert records == [
        (
            chat["chat_id"],
            MessageEvent(**message, users_id=chat["users_id"]).model_dump(mode="json"),
        )
    ]


async def test_repeated_client_message_id_returns_200_and_the_same_single_message(
    client: httpx.AsyncClient, open_chat: OpenChat, kafka_records: Callable[[str], Awaitable[Any]]
) -> None:
    alice, bob, chat = await open_chat()
    payload = _payload(chat, bob.id, client_message_id="retry-me")
    first = await client.post("/v1/messaging", json=payload, headers=alice.headers)
    second = await client.post("/v1/messaging/", json=payload, headers=alice.headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert await _history(client, chat, alice) == [first.json()]
    assert len(await kafka_records(chat["chat_id"])) == 1


async def test_reusing_a_client_message_id_for_another_body_is_409(
    client: httpx.AsyncClient, open_chat: OpenChat
) -> None:
    alice, bob, chat = await open_chat()
    first = await client.post(
        "/v1/messaging/",
        json=_payload(chat, bob.id, "one", client_message_id="k"),
        headers=alice.headers,
    )
    other = await client.post(
        "/v1/messaging/",
        json=_payload(chat, bob.id, "two", client_message_id="k"),
        headers=alice.headers,
    )
    assert (first.status_code, other.status_code) == (201, 409)
    assert other.json()["code"] == "client_message_id_reused"
    assert [m["body"] for m in await _history(client, chat, alice)] == ["one"]


async def test_parallel_sends_with_one_client_message_id_store_one_message(
    client: httpx.AsyncClient, open_chat: OpenChat
) -> None:
    alice, bob, chat = await open_chat()
    payload = _payload(chat, bob.id, "only once", client_message_id="parallel")
    responses = await asyncio.gather(
        *(client.post("/v1/messaging/", json=payload, headers=alice.headers) for _ in range(8))
    )
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert len({r.json()["message_id"] for r in responses}) == 1
    history = await _history(client, chat, bob)
    assert [m["message_id"] for m in history] == [responses[0].json()["message_id"]]


async def test_concurrent_sends_of_several_chats_are_each_stored_and_published_once(
    client: httpx.AsyncClient, open_chat: OpenChat, kafka_records: Callable[[str], Awaitable[Any]]
) -> None:
    # Sends that reach their insert in one turn share a Cassandra request (TurnBatch): more
    # than one batch's worth here, from both members of two chats, keyed and not.
    chats = [await open_chat(), await open_chat()]
    sends = [
        (chat, sender, receiver, n)
        for chat_number, (alice, bob, chat) in enumerate(chats)
        for n, (sender, receiver) in enumerate([(alice, bob), (bob, alice)] * 7)
        if (chat_number, n) != (1, 13)
    ]
    responses = await asyncio.gather(
        *(
            client.post(
                "/v1/messaging/",
                json=_payload(
                    chat, receiver.id, f"m{n}", **({"client_message_id": f"c{n}"} if n % 2 else {})
                ),
                headers=sender.headers,
            )
            for chat, sender, receiver, n in sends
        )
    )
    assert [r.status_code for r in responses] == [201] * len(sends)
    for alice, _, chat in chats:
        sent = {r.json()["message_id"] for r in responses if r.json()["chat_id"] == chat["chat_id"]}
        stored = [m["message_id"] for m in await _history(client, chat, alice)]
        published = [event["message_id"] for _, event in await kafka_records(chat["chat_id"])]
        assert sorted(stored) == sorted(published) == sorted(sent)
        assert len(sent) in (13, 14)


async def test_messages_without_a_key_are_distinct_and_ordered(
    client: httpx.AsyncClient, open_chat: OpenChat
) -> None:
    alice, bob, chat = await open_chat()
    sent = []
    for i, (sender, receiver) in enumerate([(alice, bob), (bob, alice), (alice, bob)]):
        response = await client.post(
            "/v1/messaging/", json=_payload(chat, receiver.id, f"m{i}"), headers=sender.headers
        )
        assert response.status_code == 201
        sent.append(response.json())
    assert await _history(client, chat, alice) == sent[::-1]


async def test_sender_and_recipient_rules(
    client: httpx.AsyncClient, open_chat: OpenChat, make_user: Callable[[], Awaitable[Any]]
) -> None:
    alice, bob, chat = await open_chat()
    outsider = await make_user()
    cases = [
        (alice, _payload(chat, bob.id, from_user=bob.id), 403, "not_your_identity"),
        (alice, _payload(chat, alice.id), 422, "invalid_request"),
        (alice, _payload(chat, outsider.id), 422, "invalid_request"),
        (outsider, _payload(chat, alice.id), 403, "not_a_member"),
        (alice, {**_payload(chat, bob.id), "chat_id": str(uuid.uuid4())}, 404, "chat_not_found"),
    ]
    for user, payload, status, code in cases:
        response = await client.post("/v1/messaging/", json=payload, headers=user.headers)
        assert (response.status_code, response.json()["code"]) == (status, code), payload
        # Every 422 has one shape, whether the schema or a rule of the chat refused it.
        assert isinstance(response.json()["detail"], list if status == 422 else str)
    assert await _history(client, chat, alice) == []


async def test_an_unauthenticated_send_is_401_and_stores_nothing(
    client: httpx.AsyncClient, open_chat: OpenChat
) -> None:
    # Malformed sends are in test_hostile_inputs.py.
    alice, bob, chat = await open_chat()
    unauthenticated = await client.post("/v1/messaging/", json=_payload(chat, bob.id))
    assert unauthenticated.status_code == 401
    assert await _history(client, chat, alice) == []


async def test_sending_too_fast_is_429_with_retry_after_across_processes(
    serve_app: Callable[..., Any], make_user: Callable[[], Awaitable[Any]]
) -> None:
    # Sends alternate between two apps, each with its own limiter and Redis connection, as
    # two worker processes or replicas have: the budget of 3 is spent across both.
    limits = {"send_burst": 3, "send_rate_per_second": 0.5}
    async with serve_app(**limits) as client, serve_app(**limits) as other:
        alice, bob = await make_user(), await make_user()
        chat = (
            await client.post(
                "/v1/chat/", json={"users_id": [alice.id, bob.id]}, headers=alice.headers
            )
        ).json()
        codes = [
            (
                await app.post(
                    "/v1/messaging/", json=_payload(chat, bob.id, f"n{i}"), headers=alice.headers
                )
            )
            for i, app in enumerate([client, other, client, other])
        ]
        assert [r.status_code for r in codes] == [201, 201, 201, 429]
        assert codes[-1].json()["code"] == "send_rate_limited"
        assert 1 <= int(codes[-1].headers["retry-after"]) <= 6
        # Bob has his own allowance.
        reply = await client.post(
            "/v1/messaging/", json=_payload(chat, alice.id, "hey"), headers=bob.headers
        )
        assert reply.status_code == 201
        history = (
            await client.get(f"/v1/chat/{chat['chat_id']}/messages/", headers=bob.headers)
        ).json()
        assert len(history) == 4


async def test_the_same_body_repeated_too_often_is_429(
    serve_app: Callable[..., Any], make_user: Callable[[], Awaitable[Any]]
) -> None:
    async with serve_app(repeat_body_limit=2, repeat_body_window=timedelta(seconds=30)) as client:
        alice, bob = await make_user(), await make_user()
        chat = (
            await client.post(
                "/v1/chat/", json={"users_id": [alice.id, bob.id]}, headers=alice.headers
            )
        ).json()
        responses = [
            await client.post(
                "/v1/messaging/", json=_payload(chat, bob.id, "spam"), headers=alice.headers
            )
            for _ in range(3)
        ]
        assert [r.status_code for r in responses] == [201, 201, 429]
        assert responses[-1].json()["code"] == "repeated_body"
        assert int(responses[-1].headers["retry-after"]) >= 25
        other = await client.post(
            "/v1/messaging/", json=_payload(chat, bob.id, "not spam"), headers=alice.headers
        )
        assert other.status_code == 201


async def test_a_key_refused_for_a_repeated_body_can_be_used_after_the_window(
    serve_app: Callable[..., Any], make_user: Callable[[], Awaitable[Any]]
) -> None:
    async with serve_app(repeat_body_limit=1, repeat_body_window=timedelta(seconds=1)) as client:
        alice, bob = await make_user(), await make_user()
        created = await client.post(
            "/v1/chat/", json={"users_id": [alice.id, bob.id]}, headers=alice.headers
        )
        chat = created.json()
        first = _payload(chat, bob.id, "same", client_message_id="a")
        second = _payload(chat, bob.id, "same", client_message_id="b")
        assert (
            await client.post("/v1/messaging/", json=first, headers=alice.headers)
        ).status_code == 201
        refused = await client.post("/v1/messaging/", json=second, headers=alice.headers)
        assert refused.status_code == 429
        await asyncio.sleep(1.2)
        accepted = await client.post("/v1/messaging/", json=second, headers=alice.headers)
        assert accepted.status_code == 201, accepted.text
        history = (
            await client.get(f"/v1/chat/{chat['chat_id']}/messages/", headers=bob.headers)
        ).json()
        assert [m["client_message_id"] for m in history] == ["b", "a"]


async def test_the_other_member_cannot_reuse_a_key_to_get_the_message(
    client: httpx.AsyncClient, open_chat: OpenChat
) -> None:
    alice, bob, chat = await open_chat()
    mine = await client.post(
        "/v1/messaging/",
        json=_payload(chat, bob.id, "hi", client_message_id="shared"),
        headers=alice.headers,
    )
    theirs = await client.post(
        "/v1/messaging/",
        json=_payload(chat, alice.id, "hi", client_message_id="shared"),
        headers=bob.headers,
    )
    assert (mine.status_code, theirs.status_code) == (201, 409)
    assert len(await _history(client, chat, alice)) == 1
