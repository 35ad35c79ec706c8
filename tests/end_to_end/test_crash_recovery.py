"""Every acknowledged message survives a crash of any one process.

A client sends a steady conversation, retrying each message with the same client_message_id
until it is acknowledged (201, or 200 for a repeat), as the API asks clients to. Mid-stream one
process is killed with SIGKILL and started again. Afterwards every acknowledged message is in
the history exactly once and in Firestore. A message may appear in two burst documents only if
its send had to be retried (the chat service then publishes it again, harmlessly: readers merge
by message_id); a crash of the aggregator or the consumer never duplicates anything.
"""

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest
from end_to_end_support import (
    Pipeline,
    User,
    message_ids_in_firestore,
    open_chat,
    sign_up_and_log_in,
    wait_for,
)

from devstack.testing import unique_name

MESSAGES = 40
KILL_AFTER = 12


@dataclass
class Conversation:
    acknowledged: list[str] = field(default_factory=list)
    retried: set[str] = field(default_factory=set)
    first_kill_ready: asyncio.Event = field(default_factory=asyncio.Event)


async def send_until_acknowledged(
    client: httpx.AsyncClient, url: str, sender: User, payload: dict[str, str]
) -> tuple[str, int]:
    """Returns the message id and how many attempts failed before the acknowledgement."""
    body = {**payload, "client_message_id": uuid.uuid4().hex}
    failures, deadline = 0, time.monotonic() + 120
    while True:
        try:
            response = await client.post(url, headers=sender.headers, json=body)
            if response.status_code in (200, 201):
                return str(response.json()["message_id"]), failures
            assert response.status_code == 503, response.text  # anything else is a bug
        except httpx.TransportError:
            pass  # the chat service itself is down
        failures += 1
        assert time.monotonic() < deadline, "no acknowledgement within two minutes"
        await asyncio.sleep(0.25)


async def converse(
    pipeline: Pipeline, chat: str, alice: User, bob: User, conversation: Conversation
) -> None:
    rng = random.Random(5)
    sender, receiver = alice, bob
    async with httpx.AsyncClient(timeout=10) as client:
        for number in range(MESSAGES):
            if rng.random() < 0.3:
                sender, receiver = receiver, sender
            payload = {"chat_id": chat, "to_user": receiver.id, "body": f"message {number}"}
            message_id, failures = await send_until_acknowledged(
                client, f"{pipeline.chat_url}/v1/messaging/", sender, payload
            )
            conversation.acknowledged.append(message_id)
            if failures:
                conversation.retried.add(message_id)
            if len(conversation.acknowledged) == KILL_AFTER:
                conversation.first_kill_ready.set()
            await asyncio.sleep(0.05)


async def crash_and_restart(pipeline: Pipeline, victim: str, ready: asyncio.Event) -> None:
    await ready.wait()
    await asyncio.to_thread(pipeline.kill, victim)
    await asyncio.sleep(1.5)
    await asyncio.to_thread(pipeline.restart, victim)


def history_ids(pipeline: Pipeline, chat: str, reader: User) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    with httpx.Client(timeout=10) as client:
        while True:
            params = {"quantity": "100", **({"time": cursor} if cursor else {})}
            page = client.get(
                f"{pipeline.chat_url}/v1/chat/{chat}/messages/",
                headers=reader.headers, params=params,
            ).json()  # fmt: skip
            if not page:
                return ids
            ids.extend(message["message_id"] for message in page)
            cursor = page[-1]["time"]


@pytest.mark.slow
@pytest.mark.parametrize("victim", ["chat", "aggregator", "consumer", "kafka"])
async def test_acknowledged_messages_survive_a_crash_of(pipeline: Pipeline, victim: str) -> None:
    with httpx.Client(timeout=10) as client:
        alice = sign_up_and_log_in(client, pipeline, unique_name("alice"))
        bob = sign_up_and_log_in(client, pipeline, unique_name("bob"))
        chat = open_chat(client, pipeline, alice, bob)
    conversation = Conversation()
    sending = asyncio.create_task(converse(pipeline, chat, alice, bob, conversation))
    await crash_and_restart(pipeline, victim, conversation.first_kill_ready)
    await sending

    history = Counter(await asyncio.to_thread(history_ids, pipeline, chat, alice))
    assert set(history) == set(conversation.acknowledged)
    assert [m for m, n in history.items() if n > 1] == []

    def firestore_has_everything() -> bool:
        ids = message_ids_in_firestore(pipeline.aggregates(chat))
        return set(conversation.acknowledged) <= set(ids)

    assert await asyncio.to_thread(wait_for, firestore_has_everything, 90)
    await asyncio.sleep(3)  # late duplicates, if any, would land now
    shown = Counter(message_ids_in_firestore(pipeline.aggregates(chat)))
    assert set(shown) == set(conversation.acknowledged)
    duplicated = {m for m, n in shown.items() if n > 1}
    assert duplicated <= conversation.retried, f"{victim}: duplicated without a retry"
    if victim in ("aggregator", "consumer"):
        assert duplicated == set()
    else:
        assert conversation.retried, f"the {victim} crash never reached a send: nothing tested"
