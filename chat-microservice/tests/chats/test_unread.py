"""Unread counts in the chat list: the other member's messages after the caller's mark that
are not deleted, exact up to 99, then 99+; read only where the other member wrote last."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

OpenChat = Callable[[], Awaitable[Any]]
OpenChatOn = Callable[[httpx.AsyncClient], Awaitable[Any]]


async def _send(client: httpx.AsyncClient, chat: Any, sender: Any, to: Any, body: str) -> Any:
    payload = {"chat_id": chat["chat_id"], "to_user": to.id, "body": body}
    response = await client.post("/v1/messaging/", json=payload, headers=sender.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _unread(client: httpx.AsyncClient, user: Any) -> tuple[int, bool]:
    [entry] = (await client.get("/v1/chat/", headers=user.headers)).json()
    return entry["unread_count"], entry["unread_count_capped"]


async def test_unread_counts_follow_marks_deletions_and_own_replies(
    client: httpx.AsyncClient, open_chat: OpenChat
) -> None:
    alice, bob, chat = await open_chat()
    assert await _unread(client, bob) == (0, False)
    sent = [await _send(client, chat, alice, bob, f"m{i}") for i in range(3)]
    assert await _unread(client, bob) == (3, False)
    assert await _unread(client, alice) == (0, False)  # her own messages
    read = await client.post(
        f"/v1/chat/{chat['chat_id']}/read", json={"up_to": sent[0]["time"]}, headers=bob.headers
    )
    assert read.status_code == 200, read.text
    assert await _unread(client, bob) == (2, False)
    deleted = await client.delete(
        f"/v1/chat/{chat['chat_id']}/messages/{sent[2]['time']}", headers=alice.headers
    )
    assert deleted.status_code == 200
    assert await _unread(client, bob) == (1, False)
    # Replying reads everything before the reply.
    await _send(client, chat, bob, alice, "got it")
    assert await _unread(client, bob) == (0, False)
    assert await _unread(client, alice) == (1, False)


async def test_more_than_99_unread_is_capped(
    serve_app: Callable[..., Any], open_chat_on: OpenChatOn
) -> None:
    async with serve_app(send_burst=500, send_rate_per_second=500) as client:
        alice, bob, chat = await open_chat_on(client)
        for start in range(0, 101, 25):
            await asyncio.gather(
                *(
                    _send(client, chat, alice, bob, f"n{i}")
                    for i in range(start, min(start + 25, 101))
                )
            )
        assert await _unread(client, bob) == (99, True)
        await _send(client, chat, bob, alice, "ok")
        assert await _unread(client, bob) == (0, False)
