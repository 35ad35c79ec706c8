"""Helpers for running the consumer as a real process and looking at what it wrote."""

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore

from chat_events import Burst, MessageEvent, burst_from_messages
from devstack.testing import free_port


def consumer_env(
    bootstrap: str, topics: dict[str, str], project: str, **extra: str
) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "CONSUMER_INPUT_TOPIC": topics["chat_messages_grouped"],
        "CONSUMER_DEAD_LETTER_TOPIC": topics["chat_messages_grouped_dlq"],
        "CONSUMER_GROUP_ID": f"consumer-{topics['chat_messages_grouped']}",
        "CONSUMER_FIREBASE_PROJECT": project,
        "CONSUMER_SESSION_TIMEOUT": "6",
        "CONSUMER_HTTP_PORT": str(free_port()),
        "CONSUMER_RETRY_INITIAL": "0.05",
        "CONSUMER_RETRY_MAX": "0.2",
        "CONSUMER_MAX_ATTEMPTS": "3",
        **extra,
    }


def make_burst(size: int = 3, sender: str = "1", other: str = "2", body: str = "hi") -> Burst:
    chat_id = uuid.uuid4()
    messages = [
        MessageEvent(
            message_id=uuid.uuid4(),
            chat_id=chat_id,
            from_user=sender,
            to_user=other,
            body=f"{body}{i}",
            time=uuid.uuid1(),
            time_iso=datetime.now(UTC),
            users_id=sorted([sender, other]),
        )
        for i in range(size)
    ]
    return burst_from_messages(messages, origin=f"0-{uuid.uuid4().int % 10**9}")


def firestore_client(project: str) -> Any:
    """A plain Google client on the emulator (FIRESTORE_EMULATOR_HOST is set by the fixture)."""
    return firestore.Client(project=project, credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]


def all_aggregates(client: Any) -> list[dict[str, Any]]:
    return [
        doc.to_dict() | {"_path": doc.reference.path}
        for doc in client.collection_group("aggregates").stream()
    ]


async def wait_until(predicate: Callable[[], bool], within: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await asyncio.to_thread(predicate):
            return True
        await asyncio.sleep(interval)
    return False
