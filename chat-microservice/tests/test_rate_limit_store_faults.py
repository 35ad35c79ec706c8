"""Sends while the limit store (a private Redis) is killed, stalled and restarted: chat keeps
working and loses nothing, spam is still limited per process, and once Redis answers again
the limits are shared through it again."""

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from chat_service.rate_limits import PROBE_INTERVAL_SECONDS
from devstack.components.redis import redis_command
from devstack.testing import PrivateRedis, unique_name

pytestmark = pytest.mark.slow

# Three sends per 30 seconds: nothing is given back while a test runs.
BURST = {"send_burst": 3, "send_rate_per_second": 0.1}


async def open_chat(client: httpx.AsyncClient, make_user: Callable[[], Awaitable[Any]]) -> Any:
    alice, bob = await make_user(), await make_user()
    created = await client.post(
        "/v1/chat/", json={"users_id": [alice.id, bob.id]}, headers=alice.headers
    )
    assert created.status_code == 201, created.text
    return alice, bob, created.json()


def sender(client: httpx.AsyncClient, alice: Any, bob: Any, chat: Any) -> Any:
    async def send(body: str) -> httpx.Response:
        payload = {"chat_id": chat["chat_id"], "to_user": bob.id, "body": body}
        return await client.post("/v1/messaging/", json=payload, headers=alice.headers)

    return send


async def fallback_metrics(client: httpx.AsyncClient) -> tuple[str, str]:
    lines = (await client.get("/metrics")).text.splitlines()
    fallback = next(line for line in lines if line.startswith("chat_rate_limit_fallback "))
    outages = next(line for line in lines if line.startswith("chat_rate_limit_store_outages_"))
    return fallback.split()[-1], outages.split()[-1]


async def history_bodies(client: httpx.AsyncClient, chat: Any, reader: Any) -> set[str]:
    response = await client.get(
        f"/v1/chat/{chat['chat_id']}/messages/", params={"quantity": 100}, headers=reader.headers
    )
    return {message["body"] for message in response.json()}


async def test_sends_with_redis_killed_are_limited_per_process_then_shared_again(
    serve_app: Callable[..., Any],
    make_user: Callable[[], Awaitable[Any]],
    private_redis: PrivateRedis,
) -> None:
    prefix = unique_name("chat_limits")
    settings = {"rate_limit_storage": private_redis.url, "rate_limit_prefix": prefix, **BURST}
    async with serve_app(**settings) as client, serve_app(**settings) as other:
        alice, bob, chat = await open_chat(client, make_user)
        send, send_elsewhere = sender(client, alice, bob, chat), sender(other, alice, bob, chat)
        private_redis.kill()
        with capture_logs() as logs:
            burst = await asyncio.gather(*(send(f"down {index}") for index in range(5)))
        assert sorted(r.status_code for r in burst) == [201] * 3 + [429] * 2
        refused = next(r for r in burst if r.status_code == 429)
        assert refused.json()["code"] == "send_rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        warnings = [entry for entry in logs if entry["event"] == "send_gate_unavailable"]
        assert len(warnings) == 1
        assert await fallback_metrics(client) == ("1.0", "1.0")
        # Another process counts on its own meanwhile: the budget is per process.
        elsewhere = [(await send_elsewhere(f"other {index}")).status_code for index in range(4)]
        assert elsewhere == [201, 201, 201, 429]
        accepted = {r.json()["body"] for r in burst if r.status_code == 201}
        accepted |= {f"other {index}" for index in range(3)}
        assert await history_bodies(client, chat, bob) == accepted

        private_redis.start()  # with its append-only file, which holds no send of this test
        await asyncio.sleep(PROBE_INTERVAL_SECONDS + 0.2)
        shared = [
            (await attempt(f"back {index}")).status_code
            for index, attempt in enumerate([send, send_elsewhere, send, send_elsewhere])
        ]
        assert shared == [201, 201, 201, 429]
        assert (await fallback_metrics(client))[0] == "0.0"
        assert redis_command(private_redis.url, "KEYS", f"{prefix}*")


async def test_sends_with_redis_stalled_wait_at_most_its_timeout_and_stay_limited(
    serve_app: Callable[..., Any],
    make_user: Callable[[], Awaitable[Any]],
    private_redis: PrivateRedis,
) -> None:
    settings = {
        "rate_limit_storage": private_redis.url,
        "rate_limit_timeout": timedelta(seconds=0.25),
        **BURST,
    }
    async with serve_app(**settings) as client:
        alice, bob, chat = await open_chat(client, make_user)
        send = sender(client, alice, bob, chat)
        private_redis.pause()
        # Should a send hang on Redis, it wakes up after 8 s and the checks below fail,
        # instead of the test hanging until pytest's timeout.
        watchdog = threading.Timer(8, private_redis.resume)
        watchdog.start()
        try:
            started = time.monotonic()
            burst = await asyncio.gather(*(send(f"stalled {index}") for index in range(5)))
            elapsed = time.monotonic() - started
        finally:
            watchdog.cancel()
        assert sorted(r.status_code for r in burst) == [201] * 3 + [429] * 2
        assert elapsed < 4, f"sends took {elapsed:.1f} s against a stalled Redis"
        assert (await fallback_metrics(client))[0] == "1.0"
        private_redis.resume()
        await asyncio.sleep(PROBE_INTERVAL_SECONDS + 0.2)
        # Bob's budget in Redis is untouched, whatever Redis made of the timed-out commands
        # once it woke up; his reply is counted there again.
        reply = sender(client, bob, alice, chat)
        assert (await reply("resumed")).status_code == 201
        assert (await fallback_metrics(client))[0] == "0.0"
        accepted = {r.json()["body"] for r in burst if r.status_code == 201}
        assert await history_bodies(client, chat, bob) == accepted | {"resumed"}


async def test_a_retry_after_redis_was_killed_or_emptied_gets_the_same_message(
    serve_app: Callable[..., Any],
    make_user: Callable[[], Awaitable[Any]],
    private_redis: PrivateRedis,
) -> None:
    """Claims survive a crash of Redis (its append-only file) and the loss of all its data
    (their durable copy in Cassandra): a retry is never a second message."""
    settings = {"rate_limit_storage": private_redis.url, "rate_limit_prefix": unique_name("c")}
    async with serve_app(**settings) as client:
        alice, bob, chat = await open_chat(client, make_user)
        payload = {"chat_id": chat["chat_id"], "to_user": bob.id}

        async def send(body: str, key: str) -> httpx.Response:
            message = {**payload, "body": body, "client_message_id": key}
            return await client.post("/v1/messaging/", json=message, headers=alice.headers)

        crashed, emptied = await send("before a crash", "k-crash"), await send("wiped", "k-wipe")
        assert (crashed.status_code, emptied.status_code) == (201, 201)
        private_redis.kill()
        private_redis.start()
        again = await send("before a crash", "k-crash")
        assert (again.status_code, again.json()) == (200, crashed.json())
        redis_command(private_redis.url, "FLUSHALL")
        for retry in (await send("wiped", "k-wipe"), await send("before a crash", "k-crash")):
            assert retry.status_code == 200, retry.text
        assert (await send("wiped", "k-wipe")).json() == emptied.json()
        assert await history_bodies(client, chat, bob) == {"before a crash", "wiped"}
