"""Edits and deletions: the author changes a message, Cassandra keeps the winning state by write
timestamps, and the state it holds is published and answered."""

import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cassandra.cluster import Session
from redis.asyncio import Redis

from chat_events import (
    ChatMessage,
    MessageChange,
    MessageEvent,
    new_timeuuid,
    timeuuid_at,
    timeuuid_datetime,
)
from chat_service.buckets import bucket_of_timeuuid
from chat_service.messages.repository import MessageRepository
from chat_service.settings import ChatSettings
from devstack.settings import Endpoints
from devstack.testing import cql_session

OpenChat = Callable[[], Awaitable[Any]]
OpenChatOn = Callable[[httpx.AsyncClient], Awaitable[Any]]
Records = Callable[[str], Awaitable[list[Any]]]


@pytest.fixture
def cql(stack: Endpoints, chat_settings: ChatSettings) -> Iterator[Session]:
    """A session of the test's own, to look at rows as Cassandra holds them."""
    with cql_session(stack, chat_settings.keyspace) as session:
        yield session


async def _send(
    client: httpx.AsyncClient, chat: Any, sender: Any, to: Any, body: str, **extra: Any
) -> Any:
    payload = {"chat_id": chat["chat_id"], "to_user": to.id, "body": body, **extra}
    response = await client.post("/v1/messaging/", json=payload, headers=sender.headers)
    assert response.status_code == 201, response.text
    return response.json()


def _path(chat: Any, message: Any) -> str:
    return f"/v1/chat/{chat['chat_id']}/messages/{message['time']}"


async def _edit(
    client: httpx.AsyncClient, chat: Any, message: Any, user: Any, body: str
) -> httpx.Response:
    return await client.patch(_path(chat, message), json={"body": body}, headers=user.headers)


async def _history(client: httpx.AsyncClient, chat: Any, user: Any) -> list[Any]:
    response = await client.get(f"/v1/chat/{chat['chat_id']}/messages/", headers=user.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def _row(cql: Session, message: Any) -> Any:
    time = uuid.UUID(message["time"])
    return cql.execute(
        "SELECT body, deleted, revision, edited_at, writetime(body) AS written FROM messages "
        "WHERE chat_id = %s AND bucket = %s AND time = %s",
        (uuid.UUID(message["chat_id"]), bucket_of_timeuuid(time, 10), time),
    ).one()


async def _changes(records: Records, chat: Any) -> list[Any]:
    return [value for _, value in await records(chat["chat_id"]) if value["kind"] != "message"]


async def test_an_edit_stores_publishes_and_answers_the_new_state(
    client: httpx.AsyncClient, open_chat: OpenChat, kafka_records: Records, cql: Session
) -> None:
    alice, bob, chat = await open_chat()
    sent = await _send(client, chat, alice, bob, "helo")
    response = await _edit(client, chat, sent, alice, "  hello \n")
    assert response.status_code == 200, response.text
    edited = response.json()
    assert (edited["body"], edited["deleted"], edited["time"]) == ("hello", False, sent["time"])
    revision = uuid.UUID(edited["revision"])
    assert timeuuid_datetime(revision) > timeuuid_datetime(uuid.UUID(sent["time"]))
    assert edited["edited_at"] == timeuuid_datetime(revision).isoformat(timespec="microseconds")
    assert await _history(client, chat, bob) == [edited]
    row = _row(cql, sent)
    assert (row["body"], row["revision"]) == ("hello", revision)
    # Written with the revision's microseconds as its timestamp.
    assert row["written"] == (revision.time - 0x01B21DD213814000) // 10
    assert await _changes(kafka_records, chat) == [
        MessageChange.of(
            MessageEvent.model_validate({**edited, "users_id": chat["users_id"]}),
            chat["users_id"],
        ).model_dump(mode="json")
    ]


async def test_a_deletion_leaves_a_tombstone_without_its_body(
    client: httpx.AsyncClient, open_chat: OpenChat, kafka_records: Records, cql: Session
) -> None:
    alice, bob, chat = await open_chat()
    sent = await _send(client, chat, alice, bob, "oops")
    response = await client.delete(_path(chat, sent), headers=alice.headers)
    assert response.status_code == 200, response.text
    tombstone = response.json()
    assert (tombstone["body"], tombstone["deleted"]) == ("", True)
    assert await _history(client, chat, bob) == [tombstone]
    row = _row(cql, sent)
    assert (row["body"], row["deleted"]) == (None, True)  # gone from Cassandra, not hidden
    [change] = await _changes(kafka_records, chat)
    assert (change["kind"], change["body"], change["revision"]) == (
        "delete",
        None,
        tombstone["revision"],
    )
    [entry] = (await client.get("/v1/chat/", headers=bob.headers)).json()
    assert (entry["last_message"]["body"], entry["last_message"]["deleted"]) == ("", True)


async def test_a_deletion_removes_the_legacy_preview_copy_of_the_body(
    client: httpx.AsyncClient, open_chat: OpenChat, cql: Session
) -> None:
    alice, bob, chat = await open_chat()
    sent = await _send(client, chat, alice, bob, "secret")
    for user in (alice, bob):  # as entries written before the list read the message's row
        cql.execute(
            "UPDATE chats_by_user SET last_message_body = 'secret' "
            "WHERE user_id = %s AND chat_id = %s",
            (user.id, uuid.UUID(chat["chat_id"])),
        )
    assert (await client.delete(_path(chat, sent), headers=alice.headers)).status_code == 200
    bodies = cql.execute(
        "SELECT last_message_body FROM chats_by_user WHERE user_id IN (%s, %s) AND chat_id = %s",
        (alice.id, bob.id, uuid.UUID(chat["chat_id"])),
    )
    assert [row["last_message_body"] for row in bodies] == [None, None]


async def test_repeating_a_change_answers_the_current_state_and_publishes_it_again(
    client: httpx.AsyncClient, open_chat: OpenChat, kafka_records: Records
) -> None:
    alice, bob, chat = await open_chat()
    sent = await _send(client, chat, alice, bob, "draft")
    # The body it already has: nothing to publish while the message was never changed.
    unchanged = await _edit(client, chat, sent, alice, "draft")
    assert (unchanged.status_code, unchanged.json()) == (200, sent)
    assert await _changes(kafka_records, chat) == []
    first, again = [await _edit(client, chat, sent, alice, "final") for _ in range(2)]
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()  # no new revision
    deleted, deleted_again = [
        await client.delete(_path(chat, sent), headers=alice.headers) for _ in range(2)
    ]
    assert (deleted.status_code, deleted_again.status_code) == (200, 200)
    assert deleted_again.json() == deleted.json()
    changes = await _changes(kafka_records, chat)
    assert [(c["kind"], c["revision"]) for c in changes] == [
        ("edit", first.json()["revision"]),
        ("edit", first.json()["revision"]),
        ("delete", deleted.json()["revision"]),
        ("delete", deleted.json()["revision"]),
    ]


async def test_refused_changes_change_nothing_and_publish_nothing(
    client: httpx.AsyncClient,
    open_chat: OpenChat,
    make_user: Callable[[], Awaitable[Any]],
    kafka_records: Records,
) -> None:
    alice, bob, chat = await open_chat()
    outsider = await make_user()
    sent = await _send(client, chat, alice, bob, "mine")
    gone = await _send(client, chat, alice, bob, "gone")
    assert (await client.delete(_path(chat, gone), headers=alice.headers)).status_code == 200
    before_history, before_records = (
        await _history(client, chat, alice),
        await kafka_records(chat["chat_id"]),
    )
    unknown_time = {"time": str(new_timeuuid()), "chat_id": chat["chat_id"]}
    other_chat = {"chat_id": str(uuid.uuid4())}
    cases = [
        (bob, chat, sent, 403, "not_the_author"),
        (outsider, chat, sent, 403, "not_a_member"),
        (alice, other_chat, sent, 404, "chat_not_found"),
        (alice, chat, unknown_time, 404, "message_not_found"),
    ]
    for user, where, message, status, code in cases:
        for response in (
            await _edit(client, where, message, user, "changed"),
            await client.delete(_path(where, message), headers=user.headers),
        ):
            assert (response.status_code, response.json()["code"]) == (status, code), code
    deleted_edit = await _edit(client, chat, gone, alice, "back")
    assert (deleted_edit.status_code, deleted_edit.json()["code"]) == (409, "message_deleted")
    malformed = [
        await client.patch(_path(chat, sent), json={"body": "  "}, headers=alice.headers),
        await client.patch(_path(chat, sent), json={"body": "a\x00b"}, headers=alice.headers),
        await client.patch(_path(chat, sent), json={}, headers=alice.headers),
        await client.patch(
            f"/v1/chat/{chat['chat_id']}/messages/{uuid.uuid4()}",
            json={"body": "x"},
            headers=alice.headers,
        ),
        await client.delete(
            f"/v1/chat/{chat['chat_id']}/messages/not-a-uuid", headers=alice.headers
        ),
    ]
    assert [r.status_code for r in malformed] == [422] * 5
    unauthenticated = await client.patch(_path(chat, sent), json={"body": "x"})
    assert unauthenticated.status_code == 401
    assert await _history(client, chat, alice) == before_history
    assert await kafka_records(chat["chat_id"]) == before_records


async def test_changing_too_fast_is_429_with_retry_after_and_changes_nothing(
    serve_app: Callable[..., Any], open_chat_on: OpenChatOn, kafka_records: Records
) -> None:
    async with serve_app(change_rate_per_minute=2) as client:
        alice, bob, chat = await open_chat_on(client)
        sent = await _send(client, chat, alice, bob, "v0")
        answers = [await _edit(client, chat, sent, alice, f"v{i}") for i in (1, 2, 3)]
        refused_delete = await client.delete(_path(chat, sent), headers=alice.headers)
        assert [r.status_code for r in answers] == [200, 200, 429]
        assert (refused_delete.status_code, refused_delete.json()["code"]) == (
            429,
            "change_rate_limited",
        )
        assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
        assert [m["body"] for m in await _history(client, chat, bob)] == ["v2"]
        assert len(await _changes(kafka_records, chat)) == 2


def _stored(chat: Any, body: str = "first") -> ChatMessage:
    time = new_timeuuid()
    return ChatMessage(
        message_id=uuid.uuid5(time, "message"),
        chat_id=uuid.UUID(chat["chat_id"]),
        from_user=chat["users_id"][0],
        to_user=chat["users_id"][1],
        body=body,
        time=time,
        time_iso=timeuuid_datetime(time),
    )


def _revision(message: Any, microseconds: int) -> uuid.UUID:
    return timeuuid_at(timeuuid_datetime(message.time) + timedelta(microseconds=microseconds))


async def test_the_later_revision_wins_whatever_order_edits_arrive_in(
    open_chat: OpenChat, message_repository: MessageRepository
) -> None:
    _, _, chat = await open_chat()
    message = _stored(chat)
    bucket = bucket_of_timeuuid(message.time, 10)
    await message_repository.insert(message, bucket)
    newer, older = _revision(message, 2000), _revision(message, 1000)
    await message_repository.edit(message, bucket, "newer", newer)
    await message_repository.edit(message, bucket, "older", older)  # arrives late
    stored = await message_repository.get(message.chat_id, bucket, message.time)
    assert stored is not None
    assert (stored.body, stored.revision, stored.deleted) == ("newer", newer, False)


async def test_a_deletion_wins_over_every_edit_before_or_after_it(
    open_chat: OpenChat, message_repository: MessageRepository, cql: Session
) -> None:
    _, _, chat = await open_chat()
    message = _stored(chat)
    bucket = bucket_of_timeuuid(message.time, 10)
    await message_repository.insert(message, bucket)
    await message_repository.edit(message, bucket, "edited", _revision(message, 1000))
    deletion = _revision(message, 2000)
    await message_repository.delete_body(message, bucket, deletion)
    # A later revision, as another replica with a clock far ahead would write it.
    await message_repository.edit(message, bucket, "resurrected", _revision(message, 10**12))
    stored = await message_repository.get(message.chat_id, bucket, message.time)
    assert stored is not None
    assert (stored.body, stored.deleted, stored.revision) == ("", True, deletion)
    row = cql.execute(
        "SELECT body FROM messages WHERE chat_id = %s AND bucket = %s AND time = %s",
        (message.chat_id, bucket, message.time),
    ).one()
    assert row["body"] is None


async def _republishing(settings: ChatSettings, chat: Any, sent: Any) -> None:
    """Makes the key's first publish look unacknowledged, so that a repeat publishes again."""
    key = f"{settings.rate_limit_prefix}:claim:{chat['chat_id']}:{sent['client_message_id']}"
    async with Redis.from_url(settings.rate_limit_storage, decode_responses=True) as redis:
        claim = await redis.get(key)
        assert claim is not None
        assert claim.endswith("|1"), claim
        await redis.set(key, claim.removesuffix("1") + "0", keepttl=True)


async def _repeat(
    client: httpx.AsyncClient, chat: Any, sender: Any, to: Any, body: str, key: str
) -> httpx.Response:
    """Sends again the message sent with `client_message_id` = `key`."""
    payload = {"chat_id": chat["chat_id"], "to_user": to.id, "body": body}
    return await client.post(
        "/v1/messaging/", json={**payload, "client_message_id": key}, headers=sender.headers
    )


async def test_a_repeated_send_of_a_deleted_message_answers_the_tombstone_unpublished(
    client: httpx.AsyncClient,
    open_chat: OpenChat,
    kafka_records: Records,
    chat_settings: ChatSettings,
) -> None:
    alice, bob, chat = await open_chat()
    sent = await _send(client, chat, alice, bob, "take back", client_message_id="k1")
    tombstone = (await client.delete(_path(chat, sent), headers=alice.headers)).json()
    await _republishing(chat_settings, chat, sent)
    before = await kafka_records(chat["chat_id"])
    repeat = await _repeat(client, chat, alice, bob, "take back", "k1")
    assert (repeat.status_code, repeat.json()) == (200, tombstone)
    assert await kafka_records(chat["chat_id"]) == before


async def test_a_change_made_while_a_repeat_republishes_is_published_after_it(
    client: httpx.AsyncClient,
    open_chat: OpenChat,
    kafka_records: Records,
    chat_settings: ChatSettings,
) -> None:
    alice, bob, chat = await open_chat()
    sent = await _send(client, chat, alice, bob, "hi", client_message_id="k2")
    await _republishing(chat_settings, chat, sent)
    service = client._transport.app.state.resources.messages  # type: ignore[attr-defined]
    publish = service._publisher.publish

    async def publish_then_edit(event: Any) -> None:
        await publish(event)
        if event.kind == "message":  # the author edits right after the message went out again
            edit = await _edit(client, chat, sent, alice, "hi there")
            assert edit.status_code == 200, edit.text

    service._publisher.publish = publish_then_edit
    try:
        repeat = await _repeat(client, chat, alice, bob, "hi", "k2")
    finally:
        service._publisher.publish = publish
    assert repeat.status_code == 200, repeat.text
    assert repeat.json()["body"] == "hi there"
    kinds = [
        (value["kind"], value.get("body")) for _, value in await kafka_records(chat["chat_id"])
    ]
    # The send; the repeat's message, the edit's own change, and the change after the message.
    assert kinds == [
        ("message", "hi"),
        ("message", "hi"),
        ("edit", "hi there"),
        ("edit", "hi there"),
    ]
