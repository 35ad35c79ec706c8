import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from chat_events import ChatMessage, timeuuid_at, timeuuid_datetime
from chat_service.buckets import bucket_of
from chat_service.messages.repository import MessageRepository

OpenChat = Callable[[], Awaitable[Any]]
BUCKET_DAYS = 10


async def _write_history(
    repository: MessageRepository, chat: dict[str, Any], times: list[datetime]
) -> list[ChatMessage]:
    """Stores messages at chosen (old) times through the service's repository; newest first."""
    sender, receiver = chat["users_id"]
    chat_id = uuid.UUID(chat["chat_id"])
    stored = []
    for i, moment in enumerate(times):
        time = timeuuid_at(moment)
        message = ChatMessage(
            message_id=uuid.uuid4(),
            chat_id=chat_id,
            from_user=sender,
            to_user=receiver,
            body=f"message {i}",
            time=time,
            time_iso=timeuuid_datetime(time),
        )
        bucket = bucket_of(moment, BUCKET_DAYS)
        await repository.add_bucket(chat_id, bucket)
        await repository.insert(message, bucket)
        stored.append(message)
    return sorted(stored, key=lambda m: m.time_iso, reverse=True)


def _spread_history() -> list[datetime]:
    """Messages on both sides of several bucket boundaries, and a silent gap of three years."""
    boundary = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=BUCKET_DAYS * 1800)  # 2019
    times = [boundary + timedelta(hours=h) for h in range(-30, 30, 4)]  # straddles a boundary
    times += [boundary + timedelta(days=BUCKET_DAYS * 3, minutes=m) for m in range(5)]
    gap_end = boundary + timedelta(days=3 * 365)
    times += [gap_end + timedelta(days=d * 7) for d in range(6)]  # several consecutive buckets
    return times


async def _page(
    client: httpx.AsyncClient, chat_id: str, user: Any, **params: Any
) -> httpx.Response:
    return await client.get(f"/v1/chat/{chat_id}/messages/", params=params, headers=user.headers)


@contextmanager
def _bucket_reads(client: httpx.AsyncClient, method: str) -> Iterator[list[int]]:
    """The bucket of every call of the app's repository `method` ("page" reads a bucket,
    "buckets_up_to" the bucket index) while the block runs."""
    repository = client._transport.app.state.resources.messages._repository  # type: ignore[attr-defined]
    reads: list[int] = []
    original = getattr(repository, method)

    async def counting(chat_id: uuid.UUID, bucket: int, *args: Any) -> Any:
        reads.append(bucket)
        return await original(chat_id, bucket, *args)

    setattr(repository, method, counting)
    try:
        yield reads
    finally:
        setattr(repository, method, original)


async def test_an_empty_chat_has_an_empty_history(
    client: httpx.AsyncClient, open_chat: OpenChat
) -> None:
    alice, _, chat = await open_chat()
    response = await _page(client, chat["chat_id"], alice)
    assert (response.status_code, response.json()) == (200, [])
    cursor = str(uuid.uuid1())
    assert (await _page(client, chat["chat_id"], alice, time=cursor)).json() == []


async def test_default_page_is_the_ten_newest(
    client: httpx.AsyncClient, open_chat: OpenChat, message_repository: MessageRepository
) -> None:
    alice, _, chat = await open_chat()
    expected = await _write_history(message_repository, chat, _spread_history())
    page = (await _page(client, chat["chat_id"], alice)).json()
    assert [m["message_id"] for m in page] == [str(m.message_id) for m in expected[:10]]


@pytest.mark.parametrize("quantity", [1, 2, 3, 7, 10, 11, 26, 100])
async def test_paging_with_any_size_walks_every_message_once_across_buckets_and_gaps(
    client: httpx.AsyncClient,
    open_chat: OpenChat,
    message_repository: MessageRepository,
    quantity: int,
) -> None:
    _alice, bob, chat = await open_chat()
    expected = await _write_history(message_repository, chat, _spread_history())
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(len(expected) + 2):
        params: dict[str, Any] = {"quantity": quantity} | ({"time": cursor} if cursor else {})
        page = (await _page(client, chat["chat_id"], bob, **params)).json()
        assert len(page) <= quantity
        if not page:
            break
        seen += [m["message_id"] for m in page]
        cursor = page[-1]["time"]
    assert seen == [str(m.message_id) for m in expected]


async def test_a_cursor_need_not_be_a_message_time(
    client: httpx.AsyncClient, open_chat: OpenChat, message_repository: MessageRepository
) -> None:
    alice, _, chat = await open_chat()
    expected = await _write_history(message_repository, chat, _spread_history())
    # Half-way through the silent gap: everything before the gap, nothing after it.
    middle = timeuuid_at(
        datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=BUCKET_DAYS * 1800 + 500)
    )
    page = (await _page(client, chat["chat_id"], alice, time=str(middle), quantity=100)).json()
    older = [m for m in expected if m.time_iso < timeuuid_datetime(middle)]
    assert [m["message_id"] for m in page] == [str(m.message_id) for m in older]
    # A cursor in the far future or before everything.
    future = timeuuid_at(datetime(2400, 1, 1, tzinfo=UTC))
    assert len(
        (await _page(client, chat["chat_id"], alice, time=str(future), quantity=100)).json()
    ) == len(expected)
    past = timeuuid_at(datetime(1700, 1, 1, tzinfo=UTC))
    assert (await _page(client, chat["chat_id"], alice, time=str(past))).json() == []


async def test_a_page_reads_only_the_buckets_it_needs(
    client: httpx.AsyncClient, open_chat: OpenChat, message_repository: MessageRepository
) -> None:
    """Pages of a long chat touch a bounded number of partitions, however long the chat."""
    alice, _, chat = await open_chat()
    start = datetime(2015, 1, 1, tzinfo=UTC)
    times = [
        start + timedelta(days=BUCKET_DAYS * b) for b in range(60)
    ]  # 60 buckets, 1 message each
    expected = await _write_history(message_repository, chat, times)
    with _bucket_reads(client, "page") as reads:
        cursor = str(expected[29].time)
        page = (await _page(client, chat["chat_id"], alice, time=cursor, quantity=3)).json()
    assert [m["message_id"] for m in page] == [str(m.message_id) for m in expected[30:33]]
    assert len(reads) <= 4
    # A page spanning more buckets than one index read returns (8) still gets them all.
    everything = (await _page(client, chat["chat_id"], alice, quantity=100)).json()
    assert [m["message_id"] for m in everything] == [str(m.message_id) for m in expected]


async def test_a_page_found_in_the_cursors_bucket_skips_the_bucket_index(
    client: httpx.AsyncClient, open_chat: OpenChat, message_repository: MessageRepository
) -> None:
    alice, _, chat = await open_chat()
    start = datetime(2016, 3, 1, tzinfo=UTC)
    expected = await _write_history(
        message_repository, chat, [start + timedelta(minutes=m) for m in range(20)]
    )
    with _bucket_reads(client, "buckets_up_to") as index_reads:
        cursor = str(expected[4].time)
        full = (await _page(client, chat["chat_id"], alice, time=cursor, quantity=10)).json()
        assert index_reads == []
        # A page the cursor's bucket cannot fill goes on through the index.
        rest = (await _page(client, chat["chat_id"], alice, time=cursor, quantity=50)).json()
        assert len(index_reads) == 1
    assert [m["message_id"] for m in full] == [str(m.message_id) for m in expected[5:15]]
    assert [m["message_id"] for m in rest] == [str(m.message_id) for m in expected[5:]]


async def test_the_newest_page_of_a_chat_active_now_skips_the_bucket_index(
    client: httpx.AsyncClient, open_chat: OpenChat
) -> None:
    alice, bob, chat = await open_chat()
    sent = []
    for n in range(4):
        response = await client.post(
            "/v1/messaging/",
            json={"chat_id": chat["chat_id"], "to_user": bob.id, "body": f"now {n}"},
            headers=alice.headers,
        )
        sent.append(response.json()["message_id"])
    with _bucket_reads(client, "buckets_up_to") as index_reads:
        page = (await _page(client, chat["chat_id"], alice, quantity=3)).json()
    assert [m["message_id"] for m in page] == sent[::-1][:3]
    assert index_reads == []


async def test_history_is_for_members_only(
    client: httpx.AsyncClient, open_chat: OpenChat, make_user: Callable[[], Awaitable[Any]]
) -> None:
    _, _, chat = await open_chat()
    outsider = await make_user()
    forbidden = await _page(client, chat["chat_id"], outsider)
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "not_a_member")
    unknown = await _page(client, str(uuid.uuid4()), outsider)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "chat_not_found")
    anonymous = await client.get(f"/v1/chat/{chat['chat_id']}/messages/")
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    "params",
    [
        {"quantity": 0},
        {"quantity": 101},
        {"quantity": 10**30},
        {"quantity": "ten"},
        {"quantity": "\x00"},
        {"time": "not-a-uuid"},
        {"time": "\u0661" * 32},
        {"time": str(uuid.uuid4())},
        {"time": str(uuid.uuid5(uuid.NAMESPACE_DNS, "x"))},
    ],
)
async def test_bad_paging_parameters_are_422(
    client: httpx.AsyncClient, open_chat: OpenChat, params: dict[str, Any]
) -> None:
    alice, _, chat = await open_chat()
    response = await _page(client, chat["chat_id"], alice, **params)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)


async def test_history_path_works_without_trailing_slash(
    client: httpx.AsyncClient, open_chat: OpenChat
) -> None:
    alice, _, chat = await open_chat()
    response = await client.get(f"/v1/chat/{chat['chat_id']}/messages", headers=alice.headers)
    assert (response.status_code, response.json()) == (200, [])
    assert (
        await client.get("/v1/chat/not-a-uuid/messages", headers=alice.headers)
    ).status_code == 422
