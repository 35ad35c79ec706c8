"""Read marks: written and published at once when the (user, chat) window is free, kept in
Redis and flushed once when it is not, written through while Redis is down; never back."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from chat_events import timeuuid_at

Records = Callable[[str], Awaitable[list[Any]]]
MakeUser = Callable[[], Awaitable[Any]]
OpenChatOn = Callable[[httpx.AsyncClient], Awaitable[Any]]


@asynccontextmanager
async def _chat_with_messages(
    client: httpx.AsyncClient, open_chat_on: OpenChatOn, count: int
) -> AsyncIterator[tuple[Any, Any, Any, list[Any]]]:
    """Alice writes `count` messages to Bob: (alice, bob, chat, messages oldest first)."""
    alice, bob, chat = await open_chat_on(client)
    sent = []
    for i in range(count):
        payload = {"chat_id": chat["chat_id"], "to_user": bob.id, "body": f"m{i}"}
        response = await client.post("/v1/messaging/", json=payload, headers=alice.headers)
        assert response.status_code == 201, response.text
        sent.append(response.json())
    yield alice, bob, chat, sent


async def _mark(client: httpx.AsyncClient, chat: Any, user: Any, up_to: Any) -> httpx.Response:
    return await client.post(
        f"/v1/chat/{chat['chat_id']}/read", json={"up_to": str(up_to)}, headers=user.headers
    )


async def _reads(records: Records, chat: Any) -> list[str]:
    return [v["up_to"] for _, v in await records(chat["chat_id"]) if v["kind"] == "read"]


async def _entry(client: httpx.AsyncClient, user: Any) -> Any:
    [entry] = (await client.get("/v1/chat/", headers=user.headers)).json()
    return entry


@contextmanager
def _cassandra_writes(client: httpx.AsyncClient) -> Iterator[list[uuid.UUID]]:
    """The mark of every Cassandra write of a read mark the app makes while the block runs."""
    repository = client._transport.app.state.resources.reads._repository  # type: ignore[attr-defined]
    written: list[uuid.UUID] = []
    original = repository.write

    async def counting(user_id: str, chat_id: uuid.UUID, mark: uuid.UUID) -> None:
        await original(user_id, chat_id, mark)
        written.append(mark)

    repository.write = counting
    try:
        yield written
    finally:
        repository.write = original


async def _until(condition: Callable[[], Awaitable[bool]], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_a_mark_is_stored_published_and_listed(
    client: httpx.AsyncClient, open_chat_on: OpenChatOn, kafka_records: Records
) -> None:
    async with _chat_with_messages(client, open_chat_on, 2) as (_alice, bob, chat, sent):
        assert (await _entry(client, bob))["unread_count"] == 2
        response = await _mark(client, chat, bob, sent[0]["time"])
        assert response.status_code == 200, response.text
        assert response.json() == {
            "chat_id": chat["chat_id"],
            "up_to": sent[0]["time"],
            "up_to_iso": sent[0]["time_iso"],
        }
        [record] = [v for _, v in await kafka_records(chat["chat_id"]) if v["kind"] == "read"]
        assert (record["reader"], record["up_to"], record["users_id"]) == (
            bob.id,
            sent[0]["time"],
            chat["users_id"],
        )
        entry = await _entry(client, bob)
        assert (entry["read_up_to"], entry["unread_count"]) == (sent[0]["time"], 1)


async def test_refused_marks_store_and_publish_nothing(
    client: httpx.AsyncClient,
    open_chat_on: OpenChatOn,
    make_user: MakeUser,
    kafka_records: Records,
) -> None:
    async with _chat_with_messages(client, open_chat_on, 1) as (_alice, bob, chat, sent):
        outsider = await make_user()
        future = timeuuid_at(datetime.now(UTC) + timedelta(minutes=5))
        cases = [
            (outsider, chat, sent[0]["time"], 403, "not_a_member"),
            (bob, {"chat_id": str(uuid.uuid4())}, sent[0]["time"], 404, "chat_not_found"),
            (bob, chat, future, 422, "invalid_request"),
            (bob, chat, uuid.uuid4(), 422, "validation_error"),
            (bob, chat, "yesterday", 422, "validation_error"),
        ]
        for user, where, up_to, status, code in cases:
            response = await _mark(client, where, user, up_to)
            assert (response.status_code, response.json()["code"]) == (status, code), code
        unauthenticated = await client.post(
            f"/v1/chat/{chat['chat_id']}/read", json={"up_to": sent[0]["time"]}
        )
        assert unauthenticated.status_code == 401
        assert (await _entry(client, bob))["read_up_to"] is None
        assert await _reads(kafka_records, chat) == []


async def test_a_mark_never_moves_back(
    serve_app: Callable[..., Any], open_chat_on: OpenChatOn, kafka_records: Records
) -> None:
    async with (
        serve_app(read_window=timedelta(milliseconds=1)) as client,
        _chat_with_messages(client, open_chat_on, 2) as (_alice, bob, chat, sent),
    ):
        newer, older = sent[1]["time"], sent[0]["time"]
        assert (await _mark(client, chat, bob, newer)).json()["up_to"] == newer
        back = await _mark(client, chat, bob, older)
        assert (back.status_code, back.json()["up_to"]) == (200, newer)
        assert (await _entry(client, bob))["read_up_to"] == newer
        assert await _reads(kafka_records, chat) == [newer]
        # Even written directly, an older mark loses to the newer one's timestamp.
        repository = client._transport.app.state.resources.reads._repository  # type: ignore[attr-defined]
        await repository.write(bob.id, uuid.UUID(chat["chat_id"]), uuid.UUID(older))
        assert str(await repository.stored(bob.id, uuid.UUID(chat["chat_id"]))) == newer


async def test_marks_within_a_window_make_one_write_now_and_one_when_it_ends(
    serve_app: Callable[..., Any], open_chat_on: OpenChatOn, kafka_records: Records
) -> None:
    window = {"read_window": timedelta(seconds=2), "read_flush_interval": timedelta(seconds=0.05)}
    async with (
        serve_app(**window) as client,
        _chat_with_messages(client, open_chat_on, 5) as (_alice, bob, chat, sent),
    ):
        times = [m["time"] for m in sent]
        with _cassandra_writes(client) as written:
            answers = [(await _mark(client, chat, bob, t)).json()["up_to"] for t in times]
            assert answers == times  # the highest known, pending ones included
            assert [str(m) for m in written] == times[:1]
            # The list already shows the pending mark (one HGETALL), before it is written.
            entry = await _entry(client, bob)
            assert (entry["read_up_to"], entry["unread_count"]) == (times[-1], 0)

            async def flushed() -> bool:
                return len(written) == 2

            await _until(flushed)
            assert [str(m) for m in written] == [times[0], times[-1]]
        assert await _reads(kafka_records, chat) == [times[0], times[-1]]


async def test_marks_are_written_through_while_redis_is_down(
    serve_app: Callable[..., Any],
    open_chat_on: OpenChatOn,
    kafka_records: Records,
    closed_address: str,
) -> None:
    async with (
        serve_app(rate_limit_storage=f"redis://{closed_address}/0") as client,
        _chat_with_messages(client, open_chat_on, 2) as (_alice, bob, chat, sent),
    ):
        times = [m["time"] for m in sent]
        with _cassandra_writes(client) as written:
            answers = [await _mark(client, chat, bob, t) for t in times]
        assert [(r.status_code, r.json()["up_to"]) for r in answers] == [(200, t) for t in times]
        assert [str(m) for m in written] == times
        assert await _reads(kafka_records, chat) == times
        assert (await _entry(client, bob))["read_up_to"] == times[-1]
