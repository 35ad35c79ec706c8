"""The only module that talks to Firestore: batched writes of bursts and read marks, the
documents a change reaches, the backfill's pages, the readiness read."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import firebase_admin
import google.auth.credentials
from firebase_admin import credentials, firestore
from google.api_core.exceptions import Aborted, FailedPrecondition
from google.cloud.firestore_v1.base_query import FieldFilter

from aggregated_consumer.documents import (
    aggregate_document,
    aggregate_path,
    aggregates_of,
    backfill_update,
    change_update,
    read_mark_document,
    read_mark_path,
)
from aggregated_consumer.firestore_encoding import set_write
from chat_events import Burst, MessageChange, ReadMark

_CHANGE_ATTEMPTS = 5
"""A change's documents are written only if nobody wrote them since they were read; a lost
race reads them again, this many times before it counts as a failure like any other."""


class _AnonymousCredentials(credentials.Base):  # type: ignore[misc]
    """The emulator accepts any caller, but firebase-admin insists on having credentials."""

    def get_credential(self) -> google.auth.credentials.Credentials:
        return google.auth.credentials.AnonymousCredentials()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class DocumentCounts:
    """Documents one operation found and wrote, and the reads Firestore bills for it."""

    read: int
    matched: int
    written: int


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

    async def write(self, records: Sequence[Burst | ReadMark]) -> None:
        """Writes every burst and read mark in one atomic batch; firebase-admin is synchronous,
        so off-loop."""
        await asyncio.to_thread(self._write_sync, records)

    def _write_sync(self, records: Sequence[Burst | ReadMark]) -> None:
        batch = self._client.batch()
        now = datetime.now(UTC)
        for record in records:
            if isinstance(record, Burst):
                path, document = (
                    aggregate_path(record),
                    aggregate_document(record, now, self._retention),
                )
            else:
                path, document = read_mark_path(record), read_mark_document(record)
            # `batch.set(reference, document)`, encoded without proto-plus (firestore_encoding.py).
            reference = self._client.document(path)
            batch._add_write_pbs([set_write(reference._document_path, document)])
        # Our own retries (with backoff and the dead-letter topic) decide what happens next;
        # the client must not wait minutes on its own.
        batch.commit(retry=None, timeout=self._timeout)

    async def apply_change(self, change: MessageChange) -> DocumentCounts:
        """Applies an edit or a deletion to every document of the chat that holds the message
        (one query on `message_ids`), writing only those whose copy it changes."""
        return await asyncio.to_thread(self._apply_change_sync, change)

    def _apply_change_sync(self, change: MessageChange) -> DocumentCounts:
        query = self._client.collection(aggregates_of(change)).where(
            filter=FieldFilter("message_ids", "array_contains", str(change.message_id))
        )
        read = 0
        for attempt in range(_CHANGE_ATTEMPTS):
            snapshots = list(query.stream(retry=None, timeout=self._timeout))
            # Firestore bills a query that matches nothing as one read.
            read += max(1, len(snapshots))
            updates = [
                (snapshot, update)
                for snapshot in snapshots
                if (update := change_update(snapshot.to_dict(), change)) is not None
            ]
            try:
                self._update_unless_changed(updates)
            except (FailedPrecondition, Aborted):
                # Another writer (a consumer that still held the partition, the backfill)
                # changed a document since it was read: read it again and decide again.
                if attempt + 1 == _CHANGE_ATTEMPTS:
                    raise
                continue
            return DocumentCounts(read=read, matched=len(snapshots), written=len(updates))
        raise AssertionError("unreachable")  # pragma: no cover

    def _update_unless_changed(self, updates: Sequence[tuple[Any, dict[str, Any]]]) -> None:
        if not updates:
            return
        batch = self._client.batch()
        for snapshot, update in updates:
            unchanged = self._client.write_option(last_update_time=snapshot.update_time)
            batch.update(snapshot.reference, update, option=unchanged)
        batch.commit(retry=None, timeout=self._timeout)

    def backfill_page(self, after: str | None, size: int) -> tuple[DocumentCounts, str | None]:
        """Adds `message_ids` and `changed_iso` to the burst documents of one page (in path
        order, after the path `after`) that lack them. Returns the counts and the last path
        of the page, None when there are no more. A document written meanwhile is skipped:
        whoever wrote it wrote the fields too."""
        query = self._client.collection_group("aggregates").order_by("__name__").limit(size)
        if after is not None:
            query = query.start_after({"__name__": self._client.document(after)})
        snapshots = list(query.stream(timeout=self._timeout))
        if not snapshots:
            return DocumentCounts(read=1, matched=0, written=0), None
        updates = [
            (snapshot, update)
            for snapshot in snapshots
            if (update := backfill_update(snapshot.to_dict())) is not None
        ]
        try:
            self._update_unless_changed(updates)
            written = len(updates)
        except FailedPrecondition:
            # One document was rewritten meanwhile and failed the batch: the others one by one.
            written = sum(self._updated_unless_changed(item) for item in updates)
        counts = DocumentCounts(read=len(snapshots), matched=len(snapshots), written=written)
        return counts, snapshots[-1].reference.path

    def _updated_unless_changed(self, update: tuple[Any, dict[str, Any]]) -> bool:
        try:
            self._update_unless_changed([update])
        except FailedPrecondition:
            return False
        return True

    async def ping(self) -> None:
        """A cheap read that fails when Firestore is unreachable (readiness)."""
        query = self._client.collection("chats").limit(1)
        await asyncio.to_thread(lambda: list(query.stream(retry=None, timeout=self._timeout)))
