"""The only module that talks to Firestore: one batched commit of burst documents."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import firebase_admin
import google.auth.credentials
from firebase_admin import credentials, firestore
from google.cloud.firestore import SERVER_TIMESTAMP

from chat_events import Burst


class _AnonymousCredentials(credentials.Base):  # type: ignore[misc]
    """The emulator accepts any caller, but firebase-admin insists on having credentials."""

    def get_credential(self) -> google.auth.credentials.Credentials:
        return google.auth.credentials.AnonymousCredentials()  # type: ignore[no-untyped-call]


def aggregate_path(burst: Burst) -> str:
    """Per-chat subcollections keep writes off a single hot collection; the id is deterministic,
    so a replayed burst overwrites its own document instead of adding one."""
    return f"chats/{burst.chat_id}/aggregates/{burst.aggregate_id}"


def aggregate_document(burst: Burst, now: datetime, retention: timedelta) -> dict[str, Any]:
    """The burst's JSON with its members under `members` (the field the security rules, the
    index and the browser's query use) instead of `users_id`, which no reader of a document
    needs; plus `created_at` and `expire_at` (the TTL policy's field)."""
    document: dict[str, Any] = burst.model_dump(mode="json", exclude={"users_id"})
    document["members"] = list(burst.users_id)
    document["created_at"] = SERVER_TIMESTAMP
    document["expire_at"] = now + retention
    return document


class AggregateRepository:
    def __init__(
        self, project: str, emulated: bool, retention: timedelta, timeout: timedelta
    ) -> None:
        cred = _AnonymousCredentials() if emulated else credentials.ApplicationDefault()
        # A named app per repository, so tests can hold several projects in one process.
        self._app = firebase_admin.initialize_app(
            cred, options={"projectId": project}, name=f"aggregated-consumer-{id(self)}"
        )
        self._client: Any = firestore.client(self._app)
        self._retention = retention
        self._timeout = timeout.total_seconds()

    def close(self) -> None:
        self._client.close()
        firebase_admin.delete_app(self._app)

    async def write(self, bursts: Sequence[Burst]) -> None:
        """Writes every burst in one atomic batch; firebase-admin is synchronous, so off-loop."""
        await asyncio.to_thread(self._write_sync, bursts)

    def _write_sync(self, bursts: Sequence[Burst]) -> None:
        batch = self._client.batch()
        now = datetime.now(UTC)
        for burst in bursts:
            batch.set(
                self._client.document(aggregate_path(burst)),
                aggregate_document(burst, now, self._retention),
            )
        # Our own retries (with backoff and the dead-letter topic) decide what happens next;
        # the client must not wait minutes on its own.
        batch.commit(retry=None, timeout=self._timeout)

    async def ping(self) -> None:
        """A cheap read that fails when Firestore is unreachable (readiness)."""
        query = self._client.collection("chats").limit(1)
        await asyncio.to_thread(lambda: list(query.stream(retry=None, timeout=self._timeout)))
